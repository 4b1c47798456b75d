"""Questions asked of a plan (sensitivity, sweeps, diagnosis, rush orders, rolling re-plans, scenarios, the sequential baseline, the independent checker): data in, data out, no printing."""

import formulations  # noqa: F401  (first: Pyomo then loads scipy without scipy.stats; see its docstring)
