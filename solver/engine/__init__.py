"""The solve engine: options, the HiGHS session, the large-plan heuristic and its bound process, results and status.

(Named `engine`, not `solve`, so that `solver.solve` stays the public function.)"""

import formulations  # noqa: F401  (first: Pyomo then loads scipy without scipy.stats; see its docstring)
