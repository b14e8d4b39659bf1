"""The world: the social graph (generated or read from a file) and the population on day 0.

- :mod:`~sim.world.graph`: :class:`~sim.world.graph.SocialGraph`, an undirected graph in CSR form,
  with the neighbour sums and picks the rules use.
- :mod:`~sim.world.generators`: vectorised random graphs (Erdős–Rényi, communities,
  Watts–Strogatz, Barabási–Albert).
- :mod:`~sim.world.edge_list`: graphs read from files (edge lists as people have them; ids, tie
  strength, notes, safe reading); :mod:`~sim.world.readers`: GraphML, GEXF, GML and Pajek via networkx.
- :mod:`~sim.world.population`: one NumPy column per attribute of a person.
- :mod:`~sim.world.fake_accounts`: the fraud attack's dormant accounts, appended after real people.
- :mod:`~sim.world.build`: :func:`~sim.world.build.build_world` puts them together from a scenario.
"""
