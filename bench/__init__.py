"""The benchmark harness: suites of runs, isolated and stored, resumable, reportable.

It runs solution methods, so it sits above :mod:`solvers` (like the CLI) and is
imported only by ``idnplan bench``:

- :mod:`bench.suite`: the suite file format and its expansion into runs;
- :mod:`bench.instances`: instances as self-contained data with a content hash;
- :mod:`bench.worker`, :mod:`bench.isolate`: one process per run, timeout, memory limit;
- :mod:`bench.executors`: local processes or a Dask cluster;
- :mod:`bench.store`: the SQLite results database;
- :mod:`bench.report`, :mod:`bench.plot`: tables and figures;
- :mod:`bench.timing`: timing helpers shared with ``benchmarks/*.py``.
"""
