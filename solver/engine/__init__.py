"""The solve engine: options, the HiGHS session, the large-plan heuristic and its bound process, results and status.

(Named `engine`, not `solve`, so that `solver.solve` stays the public function.)"""
