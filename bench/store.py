"""The results database (SQLite, WAL mode): one row per finished run, committed at once.

Schema version 1 (``meta.schema_version``); see docs/benchmarks.md for every
column. Plans are stored beside the database as files named by the SHA-256
of their content: ``RESULTS.sqlite.files/plans/<sha256>.json``, each
instance's resolved JSON as ``.../instances/<sha256>.json``, each online
run as ``.../online-runs/<sha256>.json`` and each Pareto front as
``.../fronts/<sha256>.json``. Table ``suite_runs`` lists the run keys of
each suite's latest expansion (written by every ``bench run``): reports and
figures use those runs only, so runs of an earlier version of a suite (other
instances, methods or options under the same suite name) stay stored but
leave its tables. A database without the table gains it when opened (its
suites then report every stored run until they are run again). The Pareto and profiler columns (``objectives``
to ``macs_error_pct``) were added within schema version 1 too. The online columns (``trace`` to
``run_sha256``) were added within schema version 1: a database written
before them gains them (empty) when opened.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from pathlib import Path

from placement.errors import InputError, Problem

SCHEMA_VERSION = 1

#: Columns of ``runs`` after ``run_key``, with their SQL types (order = insert order).
COLUMNS: dict[str, str] = {
    "suite": "TEXT NOT NULL", "kind": "TEXT NOT NULL",
    "instance": "TEXT NOT NULL", "instance_group": "TEXT NOT NULL", "instance_sha256": "TEXT NOT NULL",
    "nodes": "INTEGER", "classes": "INTEGER", "layers": "INTEGER",
    "method": "TEXT NOT NULL", "method_label": "TEXT NOT NULL", "options": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL", "repeat": "INTEGER NOT NULL",
    "status": "TEXT NOT NULL", "message": "TEXT",
    "objective": "REAL", "bound": "REAL", "gap": "REAL",
    "mean_latency_s": "REAL", "mean_inaccuracy": "REAL", "mean_energy_j": "REAL", "network_bytes_per_s": "REAL",
    "violations": "INTEGER",
    "load_s": "REAL", "build_s": "REAL", "solve_s": "REAL", "method_s": "REAL", "wall_s": "REAL",
    "peak_memory_bytes": "INTEGER", "timeout_s": "REAL", "memory_limit_bytes": "INTEGER",
    "host": "TEXT", "python": "TEXT", "versions": "TEXT", "git_commit": "TEXT",
    "plan_sha256": "TEXT", "finished_at": "TEXT NOT NULL",
    # online runs (kind 'online'); added to older databases when opened
    "trace": "TEXT", "total_cost": "REAL", "regret": "REAL", "regret_per_slot": "REAL", "ratio_to_hindsight": "REAL",
    "fetched_bytes": "REAL", "update_time_s": "REAL", "run_sha256": "TEXT",
    # Pareto runs (kind 'pareto') and profiler runs (kind 'profile'); added to older databases when opened
    "objectives": "TEXT", "hypervolume": "REAL", "reference_point": "TEXT", "front_points": "INTEGER", "front_sha256": "TEXT",
    "macs": "REAL", "published_macs": "REAL", "macs_error_pct": "REAL",
}
#: Columns added after the first databases were written (ALTER TABLE when missing).
ADDED = ("trace", "total_cost", "regret", "regret_per_slot", "ratio_to_hindsight", "fetched_bytes", "update_time_s", "run_sha256",
         "objectives", "hypervolume", "reference_point", "front_points", "front_sha256", "macs", "published_macs", "macs_error_pct")

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS suites (name TEXT PRIMARY KEY, path TEXT, content TEXT NOT NULL, content_sha256 TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_key TEXT PRIMARY KEY, {", ".join(f"{k} {v}" for k, v in COLUMNS.items())});
CREATE INDEX IF NOT EXISTS runs_suite ON runs (suite);
CREATE TABLE IF NOT EXISTS suite_runs (suite TEXT NOT NULL, run_key TEXT NOT NULL, PRIMARY KEY (suite, run_key));
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """An open results database.

    Parameters
    ----------
    path : str or Path
        The SQLite file; created (with its schema) when missing.
    create : bool
        False to refuse a missing file (reports), with an :class:`InputError`.
    """

    def __init__(self, path: str | Path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise InputError(Problem(str(path), "", "no such results database"))
        self.files = Path(str(self.path) + ".files")
        self.db = sqlite3.connect(str(self.path), timeout=30.0)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process (not power loss)
            with self.db:
                self.db.executescript(_DDL)
                found = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
                if found is None:
                    self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                    self.db.execute("INSERT INTO meta VALUES ('created_at', ?)", (_now(),))
                have = {r[1] for r in self.db.execute("PRAGMA table_info(runs)")}
                for col in ADDED:
                    if col not in have:
                        self.db.execute(f"ALTER TABLE runs ADD COLUMN {col} {COLUMNS[col]}")
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(str(path), "", f"not a results database: {exc}")) from None
        version = int(found[0]) if found else SCHEMA_VERSION
        if version != SCHEMA_VERSION:
            raise InputError(Problem(str(path), "meta.schema_version", f"schema version {version}; this idnplan reads version {SCHEMA_VERSION}"))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------
    def add_suite(self, name: str, path: str, content: str, content_sha256: str) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO suites VALUES (?, ?, ?, ?, ?)", (name, path, content, content_sha256, _now()))

    def set_current_runs(self, suite: str, run_keys: list[str]) -> None:
        """Record ``run_keys`` as ``suite``'s current expansion (what its reports use)."""
        with self.db:
            self.db.execute("DELETE FROM suite_runs WHERE suite=?", (suite,))
            self.db.executemany("INSERT OR IGNORE INTO suite_runs VALUES (?, ?)", [(suite, k) for k in run_keys])

    def save_file(self, kind: str, sha256: str, text: str) -> None:
        """Store ``text`` as ``<files>/<kind>/<sha256>.json`` unless it is already there.

        Written to a temporary name and renamed, so a killed sweep never leaves a
        half file under a hash name; not fsynced (the file is named by its content
        and rewritten by any later run that produces it).
        """
        target = self.files / kind / f"{sha256}.json"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)

    def record(self, run_key: str, fields: dict) -> None:
        """Insert (or replace) one finished run, in its own transaction."""
        values = [run_key] + [_clean(fields.get(k)) for k in COLUMNS]
        names = ", ".join(["run_key", *COLUMNS])
        with self.db:
            self.db.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({', '.join('?' * len(values))})", values)

    # -- reading -------------------------------------------------------------------
    def finished(self, suite: str) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT run_key FROM runs WHERE suite=?", (suite,))}

    def suites(self) -> dict[str, str]:
        """Suite name -> suite file content, for every suite with runs here."""
        return dict(self.db.execute("SELECT name, content FROM suites ORDER BY name"))

    def rows(self, suite: str | None = None, current: bool = True) -> list[dict]:
        """Stored runs (of ``suite``); with ``current``, only those of each suite's latest expansion."""
        where, args = [], []
        if suite:
            where.append("suite=?")
            args.append(suite)
        if current:
            where.append("(NOT EXISTS (SELECT 1 FROM suite_runs s WHERE s.suite=runs.suite)"
                         " OR run_key IN (SELECT run_key FROM suite_runs s WHERE s.suite=runs.suite))")
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur]

    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value
