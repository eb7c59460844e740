"""``python -m bench.child``: run the description read from stdin, print its row as JSON.

Used where a run cannot be forked from the forkserver (inside a daemonic Dask worker).
"""

from __future__ import annotations

import json
import sys

from .worker import execute


def main() -> int:
    desc = json.loads(sys.stdin.read())
    row = execute(desc)
    sys.stdout.write("\n" + json.dumps(row, allow_nan=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
