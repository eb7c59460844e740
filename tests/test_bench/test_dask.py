"""A Dask LocalCluster sweep gives the same results as local processes."""

from __future__ import annotations

import json

import pytest
from helpers import ROOT

from bench.executors import DaskExecutor, LocalExecutor
from bench.store import Store
from bench.suite import load_suite
from bench.sweep import run_suite

pytest.importorskip("distributed")


def _decision(store: Store, sha: str | None) -> str | None:
    """The plan's decision (storage and routes), without the timings that differ run to run."""
    if sha is None:
        return None
    plan = json.loads((store.files / "plans" / f"{sha}.json").read_text())
    return json.dumps([plan["storage"], plan["routes"]], sort_keys=True)


@pytest.mark.slow
def test_local_cluster_equals_local_processes(write_suite, plugin, tmp_path):
    path = write_suite({
        "name": "dask", "plugins": [plugin], "timeout_s": 2.0,
        "instances": [{"factory": "tiny"}, {"file": str(ROOT / "instances" / "idn-10.yaml")}],
        "methods": [{"method": "greedy"}, {"method": "milp"}, {"method": "cloud-only"}, {"method": "bench-sleep", "options": {"sleep_s": 30}}],
        "seeds": [0, 1],
    })
    results = {}
    for name, executor in (("local", LocalExecutor(2)), ("dask", DaskExecutor(local_workers=2))):
        with Store(tmp_path / f"{name}.sqlite") as store:
            run_suite(load_suite(path), store, executor, progress=False)
            results[name] = {r["run_key"]: (r["status"], r["objective"], _decision(store, r["plan_sha256"])) for r in store.rows()}
    assert len(results["local"]) == 16
    assert results["dask"] == results["local"]
    assert {s for s, _, _ in results["dask"].values()} >= {"optimal", "heuristic", "timeout"}
