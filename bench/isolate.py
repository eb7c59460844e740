"""Each run in its own process, with a wall-clock timeout and a memory limit.

Run processes are forked from a *forkserver* that has already imported the
solvers (:func:`bench.worker.preload`), so a fresh process per run costs
milliseconds, not the seconds of a cold Python start. Where a process may not
have children of its own (a daemonic Dask worker), the run goes to a fresh
``python -m bench.child`` instead. Either way a run that exceeds its timeout
is killed and recorded as ``timeout``; one that exceeds its memory limit
(``RLIMIT_AS``) as ``memory``; one that dies any other way as ``crashed``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import time

_CTX = None


def _context():
    global _CTX
    if _CTX is None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            _CTX = multiprocessing.get_context("forkserver")
            _CTX.set_forkserver_preload(["bench.warm"])
        else:  # pragma: no cover - macOS/Windows
            _CTX = multiprocessing.get_context("spawn")
    return _CTX


def set_memory_limit(limit_bytes: int | None) -> None:
    """Cap this process's address space (the run then sees MemoryError beyond it)."""
    if limit_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_bytes), int(limit_bytes)))


def _child_main(desc: dict, limit_bytes: int | None, conn) -> None:
    from .worker import execute

    set_memory_limit(limit_bytes)
    row = execute(desc)
    try:
        conn.send(row)
    except MemoryError:  # the row itself did not fit: keep what says why
        conn.send({"key": desc["key"], "status": "memory", "message": "MemoryError while returning the result"})
    conn.close()
    # the row is sent: skip the interpreter's teardown (milliseconds per run, nothing left to flush)
    os._exit(0)


def _failed(desc: dict, status: str, message: str, wall_s: float) -> dict:
    from .worker import environment

    return {"key": desc["key"], "status": status, "message": message, "wall_s": wall_s, **environment()}


def _exit_message(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"the run process died of signal {signal.Signals(-code).name}"
        except ValueError:
            return f"the run process died of signal {-code}"
    return f"the run process exited with code {code} without a result"


def run_isolated(desc: dict, timeout_s: float | None = None, memory_limit_bytes: int | None = None) -> dict:
    """Run ``desc`` in a new process; always returns a row (status says how it ended)."""
    if multiprocessing.current_process().daemon:
        return run_subprocess(desc, timeout_s, memory_limit_bytes)
    ctx = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(desc, memory_limit_bytes, send), daemon=False)
    start = time.perf_counter()
    proc.start()
    send.close()
    row = None
    try:
        if recv.poll(timeout_s):
            try:
                row = recv.recv()
            except (EOFError, OSError):
                row = None
        else:
            proc.kill()
            proc.join()
            return _failed(desc, "timeout", f"killed after the {timeout_s:g} s timeout", time.perf_counter() - start)
    finally:
        recv.close()
        if row is None and proc.is_alive():
            proc.kill()
        proc.join()
    if row is None:
        status = "memory" if memory_limit_bytes and proc.exitcode == -signal.SIGKILL else "crashed"
        return _failed(desc, status, _exit_message(proc.exitcode), time.perf_counter() - start)
    return row


def run_subprocess(desc: dict, timeout_s: float | None = None, memory_limit_bytes: int | None = None) -> dict:
    """Run ``desc`` in a fresh ``python -m bench.child`` (slower start; works in any process)."""
    start = time.perf_counter()
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.child"], input=json.dumps(desc), capture_output=True, text=True,
            timeout=timeout_s, env=env, preexec_fn=(lambda: set_memory_limit(memory_limit_bytes)) if memory_limit_bytes else None,
        )
    except subprocess.TimeoutExpired:
        return _failed(desc, "timeout", f"killed after the {timeout_s:g} s timeout", time.perf_counter() - start)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = done.stderr.strip().splitlines()[-1:] if done.stderr else []
        return _failed(desc, "crashed", _exit_message(done.returncode) + (f": {tail[0]}" if tail else ""), time.perf_counter() - start)
    return json.loads(lines[-1])
