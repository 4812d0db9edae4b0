"""Run a command and print its wall time, CPU time and peak RSS as one JSON line.

    python benchmarks/measure.py -- COMMAND ...

Used by the benchmarks so each measured process is accounted for on its own.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :]
    began = time.perf_counter()
    code = subprocess.call(command)
    wall = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "returncode": code,
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
            }
        )
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
