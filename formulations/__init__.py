"""The production-budget model (docs/model.md): Instance -> Pyomo blocks + row registry -> arrays.

Importing this package first tells Pyomo not to load `scipy.stats` with scipy. Pyomo registers
an import hook that, whenever scipy is imported (by Pyomo or by anyone else once Pyomo is
loaded), also imports scipy.stats, .integrate and .spatial: 0.4–0.7 s of every command's start
for modules the planner never uses (it needs `scipy.sparse` only, and scipy still loads any
submodule on first attribute access). `solver.engine` and `solver.analysis`, which import
scipy, import this package before it.
"""


def _light_scipy() -> None:
    import pyomo.common.dependencies as deps

    for indicator in deps.DeferredImportCallbackFinder._callbacks.get("scipy", ()):
        indicator._callback = None


_light_scipy()
