"""Analysis: runs and their results, metrics, paired comparisons, the measured 8:1, plain-language reports.

- :mod:`~sim.analysis.results`: :func:`~sim.analysis.results.run` and its
  :class:`~sim.analysis.results.RunResult` (step table, ledger, summary, retention).
- :mod:`~sim.analysis.metrics`: every headline metric (the glossary is ``docs/metrics.md``).
- :mod:`~sim.analysis.channel_mix`: where new customers come from over time.
- :mod:`~sim.analysis.compare`: strategies on one market with common random numbers, paired.
- :mod:`~sim.analysis.lesson`: acquisition against retention cost, measured.
- :mod:`~sim.analysis.report`: curves, tables and the verdict the app and notebooks show.
"""
