"""A sweep: the runs of a suite not yet in the database, executed and stored one by one.

Each result is committed in its own transaction as soon as it arrives, so a
sweep killed at any moment (even by SIGKILL) loses only the runs in flight,
and running the same command again resumes with the runs still missing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .store import Store
from .suite import Run, Suite


@dataclass
class SweepSummary:
    """What one sweep did: runs total, skipped (already stored), run now, and their statuses."""

    total: int
    skipped: int
    ran: int = 0
    statuses: Counter = field(default_factory=Counter)
    wall_s: float = 0.0


def git_commit(where: Path | None = None) -> str | None:
    """The project's git commit (with ``-dirty`` when the work tree has changes), or None."""
    root = where or Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty", "--abbrev=40"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class Progress:
    """A one-line progress bar with ETA on stderr (a line every 5 s when not a terminal)."""

    def __init__(self, total: int, enabled: bool = True):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def step(self, status: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < 5.0 and self.done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        eta = elapsed / self.done * (self.total - self.done)
        width = 30
        bar = "#" * round(width * self.done / self.total)
        line = f"[{bar:<{width}}] {self.done}/{self.total} runs, {elapsed:.0f} s elapsed, ETA {eta:.0f} s (last: {status})"
        sys.stderr.write(("\r" + line + " " * 8) if self.tty else line + "\n")
        if self.tty and self.done == self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_suite(suite: Suite, store: Store, executor, *, rerun: bool = False, timeout_s: float | None = None,
              memory_limit_gb: float | None = None, progress: bool = True) -> SweepSummary:
    """Run every run of ``suite`` missing from ``store`` (all with ``rerun``), storing each as it finishes."""
    from .suite import sha256

    store.add_suite(suite.name, str(suite.path), suite.text, sha256(suite.text))
    store.set_current_runs(suite.name, [r.key for r in suite.runs])
    for inst in suite.instances:
        store.save_file("instances", inst.sha256, inst.json)
    done = set() if rerun else store.finished(suite.name)
    todo = [r for r in suite.runs if r.key not in done]
    summary = SweepSummary(total=len(suite.runs), skipped=len(suite.runs) - len(todo))
    timeout = timeout_s or suite.spec.timeout_s
    limit_gb = memory_limit_gb or suite.spec.memory_limit_gb
    limit = int(limit_gb * 2**30) if limit_gb else None
    commit = git_commit()
    by_key = {r.key: r for r in todo}
    bar = Progress(len(todo), progress)
    start = time.perf_counter()
    for row in executor.run([r.describe() for r in todo], timeout, limit):
        run = by_key[row["key"]]
        store.record(run.key, _fields(run, row, store, timeout, limit, commit))
        summary.ran += 1
        summary.statuses[row["status"]] += 1
        bar.step(row["status"])
    summary.wall_s = time.perf_counter() - start
    return summary


def _fields(run: Run, row: dict, store: Store, timeout: float | None, limit: int | None, commit: str | None) -> dict:
    from .suite import sha256

    plan = row.pop("plan_json", None)
    if plan is not None:
        row["plan_sha256"] = sha256(plan)
        store.save_file("plans", row["plan_sha256"], plan)
    online = row.pop("online_run_json", None)
    if online is not None:
        row["run_sha256"] = sha256(online)
        store.save_file("online-runs", row["run_sha256"], online)
    front = row.pop("front_json", None)
    if front is not None:
        row["front_sha256"] = sha256(front)
        store.save_file("fronts", row["front_sha256"], front)
    inst = run.instance
    layers = row.pop("profile_layers", None)
    return {
        **row, "suite": run.suite, "kind": run.kind, "instance": inst.label, "instance_group": inst.group,
        "instance_sha256": inst.sha256, "nodes": inst.nodes, "classes": inst.classes, "layers": layers or inst.layers,
        "method": run.method, "method_label": run.method_label, "options": run.options, "seed": run.seed,
        "repeat": run.repeat, "trace": run.trace["label"] if run.trace else None, "objectives": run.objectives, "timeout_s": timeout, "memory_limit_bytes": limit, "git_commit": commit,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
