"""A warm pool: long-lived worker processes that each fork one child per run.

Each pool worker is started once from the warm forkserver (solvers imported,
one warm-up run done; :mod:`bench.warm`) and then serves many runs. For every
run it ``os.fork()``s itself: the child runs the description
(:func:`bench.worker.execute`) under the memory limit, writes its row
(pickled) to a pipe and leaves with ``os._exit``; the worker waits for the
row until the timeout, kills the child when it is over, and reaps it. So each
run still gets a process of its own (a crash, a leak or a changed global
cannot touch the next run) with the same statuses as
:func:`bench.isolate.run_isolated` (timeout, memory, crashed), but without
the per-run round trip through the forkserver and multiprocessing's process
start-up: a fork of a single-threaded warm process costs about a millisecond.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time

from .isolate import _context, _exit_message, _failed, set_memory_limit

_CHILD = 0  # the pid of the run child of this pool worker, while one runs


def _read_all(fd: int, deadline: float | None, watch: int | None = None) -> tuple[bytes, bool]:
    """Bytes from ``fd`` until EOF; (data, True) when the deadline passed first.

    ``watch``: the pipe to the sweep; readable during a run only when the sweep
    is gone (EOF), and then the run is killed and this worker leaves.
    """
    chunks = []
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd] + ([watch] if watch is not None else []), [], [], wait)
        if watch is not None and watch in ready:
            _on_term(signal.SIGTERM, None)
        if not ready:
            return b"".join(chunks), True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)


def fork_run(desc: dict, timeout_s: float | None, memory_limit_bytes: int | None, watch: int | None = None) -> dict:
    """Run ``desc`` in a child forked from this (single-threaded, warm) process; always returns a row."""
    global _CHILD
    start = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the run's own process
        os.close(r)
        code = 0
        try:
            from .worker import execute

            set_memory_limit(memory_limit_bytes)
            try:
                data = pickle.dumps(execute(desc), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                data = pickle.dumps({"key": desc["key"], "status": "memory", "message": "MemoryError while returning the result"})
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        except BaseException:  # noqa: BLE001 - never return into the worker's loop from a child
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    _CHILD = pid
    try:
        data, late = _read_all(r, None if timeout_s is None else time.monotonic() + timeout_s, watch)
    finally:
        os.close(r)
    if late:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    _CHILD = 0
    if late:
        return _failed(desc, "timeout", f"killed after the {timeout_s:g} s timeout", time.perf_counter() - start)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    if data and code == 0:
        try:
            return pickle.loads(data)
        except Exception:  # noqa: BLE001 - a truncated row is a crashed run
            pass
    kind = "memory" if memory_limit_bytes and code == -signal.SIGKILL else "crashed"
    return _failed(desc, kind, _exit_message(code), time.perf_counter() - start)


def _on_term(signum, frame) -> None:
    if _CHILD:
        try:
            os.kill(_CHILD, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(0)


def _serve(conn) -> None:
    """A pool worker's loop: (desc, timeout, limit) in, row out, until None or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the sweep handles Ctrl-C and closes the pool
    signal.signal(signal.SIGTERM, _on_term)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            break
        if job is None:
            break
        conn.send(fork_run(*job, watch=conn.fileno()))
    os._exit(0)


class PoolWorker:
    """One warm worker process and the pipe to it (used by one thread at a time)."""

    def __init__(self):
        ctx = _context()
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.proc.start()
        child.close()

    def run(self, desc: dict, timeout_s: float | None, memory_limit_bytes: int | None) -> dict:
        """The row of ``desc``; a worker that died while running it gives a ``crashed`` row (restart it)."""
        start = time.perf_counter()
        try:
            self.conn.send((desc, timeout_s, memory_limit_bytes))
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            return _failed(desc, "crashed", f"the pool worker died ({_exit_message(self.proc.exitcode)})", time.perf_counter() - start)

    @property
    def alive(self) -> bool:
        return self.proc.is_alive()

    def close(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(1.0)
        if self.proc.is_alive():
            self.proc.terminate()  # SIGTERM: the worker kills its run child first
            self.proc.join(1.0)
        self.conn.close()
