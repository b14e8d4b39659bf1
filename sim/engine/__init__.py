"""The engine: named random streams, the ledger, the market a rule sees, and the Mesa model that runs the day.

Layering inside the engine: :mod:`~sim.engine.random`, :mod:`~sim.engine.ledger` and
:mod:`~sim.engine.market` are leaves that the world and the rules build on; :mod:`~sim.engine.model`
sits above the rules and runs them. This package's ``__init__`` imports nothing, so importing a
leaf never loads the model.
"""
