"""Helpers for the browser app that do not import Streamlit (so they are tested without a browser).

- :mod:`~sim.ui.form`: the scenario schema as form fields.
- :mod:`~sim.ui.viz`: Altair charts and the one colour palette.
- :mod:`~sim.ui.spread`: the network page's sample of people and their state day by day.
- :mod:`~sim.ui.library`: presets and uploaded scenario files.
"""
