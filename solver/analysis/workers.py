"""Where the independent solves of a question run: in this process, in local worker processes,
or on a Dask cluster, behind one `concurrent.futures.Executor`.

Sweeps (`solver.analysis.parametric`), scenario comparisons and the robust plan
(`solver.analysis.scenarios`) hand their solves to `executor(jobs, scheduler)`: None (solve
here, one after the other) for one job and no scheduler, a `ProcessPoolExecutor` of `jobs`
processes, or with `scheduler` (a Dask scheduler address, `tcp://host:8786`) the cluster's
`Client.get_executor`, whose futures are `concurrent.futures` futures too, so the callers
`submit`, `map` and `wait` the same way on all three. Which solves run, with which data, options
and MIP starts, never depends on where they run: the results are those of a local run
(threads and seed fixed). The cluster's workers need this package installed
(`pip install -e .[cluster]`) and, where a path is sent (a sweep sends the instance's path),
that path visible; the Dask client is imported only when a scheduler is given.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor


@contextlib.contextmanager
def executor(jobs: int = 1, scheduler: str | None = None) -> Iterator[Executor | None]:
    """The executor for `jobs` local worker processes, or for the Dask cluster at `scheduler`
    (then `jobs` is the cluster's business); None for one local job: solve in this process.
    Pending work is cancelled when the block is left by an exception (an interrupt)."""
    if scheduler:
        from distributed import Client

        with Client(scheduler, set_as_default=False) as client:
            pool = client.get_executor(pure=False)
            try:
                yield pool
            finally:
                pool.shutdown(wait=False)
        return
    if jobs <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=jobs)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
