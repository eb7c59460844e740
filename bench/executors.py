"""Where runs execute: local processes (default) or a Dask distributed cluster.

An executor takes run descriptions (plain data) and yields result rows as runs
finish, in completion order; the caller stores each one at once. Both kinds
run every description through :func:`bench.isolate.run_isolated`, so a Dask
worker gives a run the same process, timeout and memory limit as a local one.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from placement.errors import MissingDependencyError

from .isolate import run_isolated


class LocalExecutor:
    """``workers`` runs at a time, each in its own process on this machine.

    With ``warm_pool`` (the default) each run is forked from one of
    ``workers`` long-lived warm processes (:mod:`bench.pool`); without it each
    run is a new process from the forkserver (:func:`bench.isolate.run_isolated`).
    Either way every run has a process of its own.
    """

    def __init__(self, workers: int = 1, warm_pool: bool = True):
        self.workers = max(1, int(workers))
        self.warm_pool = warm_pool

    def describe(self) -> str:
        how = "runs forked from a warm pool" if self.warm_pool else "a forkserver process per run"
        return f"{self.workers} local worker{'s' if self.workers != 1 else ''} ({how})"

    def run(self, descs: list[dict], timeout_s: float | None, memory_limit_bytes: int | None) -> Iterator[dict]:
        import queue

        from .pool import PoolWorker

        idle: queue.Queue = queue.Queue()
        started: list = []

        def one(desc: dict) -> dict:
            if not self.warm_pool:
                return run_isolated(desc, timeout_s, memory_limit_bytes)
            worker = idle.get()
            try:
                return worker.run(desc, timeout_s, memory_limit_bytes)
            finally:
                if not worker.alive:  # replace a worker that died (never a run's crash: runs are its children)
                    worker.close()
                    worker = PoolWorker()
                    started.append(worker)
                idle.put(worker)

        if self.warm_pool:
            for _ in range(min(self.workers, max(1, len(descs)))):
                started.append(PoolWorker())
                idle.put(started[-1])
        pending = iter(descs)
        try:
            with ThreadPoolExecutor(self.workers) as pool:
                # keep only `workers` runs in flight, so an interrupt leaves nothing queued
                running = {pool.submit(one, d) for d in _take(pending, self.workers)}
                try:
                    while running:
                        done, running = wait(running, return_when=FIRST_COMPLETED)
                        for fut in done:
                            yield fut.result()
                            running |= {pool.submit(one, d) for d in _take(pending, 1)}
                finally:
                    for fut in running:
                        fut.cancel()
                    if running:  # interrupted: stop the runs in flight (each worker kills its run child)
                        for w in started:
                            w.proc.terminate()
        finally:
            for w in started:
                w.close()


def _take(it: Iterator[dict], n: int) -> list[dict]:
    out = []
    for _ in range(n):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


class DaskExecutor:
    """Runs sent to a Dask cluster: an existing scheduler, or a LocalCluster of ``local_workers``."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise MissingDependencyError("distributed", "idnplan bench run --scheduler/--dask-local", "bench") from None
        self.scheduler, self.local_workers = scheduler, local_workers

    def describe(self) -> str:
        return f"Dask scheduler {self.scheduler}" if self.scheduler else f"Dask LocalCluster of {self.local_workers} workers"

    def run(self, descs: list[dict], timeout_s: float | None, memory_limit_bytes: int | None) -> Iterator[dict]:
        import dask
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if self.scheduler is None:
            # non-daemonic workers may fork each run from a warm forkserver (see bench.isolate)
            with dask.config.set({"distributed.worker.daemon": False}):
                cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
        client = Client(cluster if cluster is not None else self.scheduler)
        try:
            futures = client.map(run_isolated, descs, timeout_s=timeout_s, memory_limit_bytes=memory_limit_bytes, pure=False)
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
