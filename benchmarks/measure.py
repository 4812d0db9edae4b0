"""Run a command and print its wall time, CPU time and peak RSS as one JSON line.

    python benchmarks/measure.py -- COMMAND ...

The command runs in a session of its own, and every process of that session
that descends from it (worker processes, and their forkserver, included) is
accounted for: their /proc entries are read every 50 ms, CPU time is summed over
the processes seen (each at its last reading; or the kernel's figure for the
command and what it waited for, if larger), and the peak RSS is the largest sum
of the session's resident sets at one reading (shared pages counted in each
process, so it errs high). ``cpu_main_s`` is the command's own process alone
(for a crawl: the reactor, and the threads beside it).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

INTERVAL = 0.05
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> tuple[float, int, int] | None:
    """CPU seconds, RSS bytes and session id of ``pid``; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state; session is 6, utime 14, stime 15, rss 24
    return (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE, int(fields[3])


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _session(sid: int) -> dict[int, tuple[float, int]]:
    """CPU seconds and RSS bytes of each live process of session ``sid``.

    The processes are found by walking down from its leader through
    ``/proc/PID/task/TID/children``: reading only those keeps the sampling cheap
    (a scan of all of /proc, 20 times a second, costs a few % of a core).
    """
    found = {}
    todo = [sid]
    while todo:
        pid = todo.pop()
        got = _stat(pid)
        if got is None or got[2] != sid:
            continue
        found[pid] = got[:2]
        todo += _children(pid)
    return found


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :]
    began = time.perf_counter()
    child = subprocess.Popen(command, start_new_session=True)
    cpu: dict[int, float] = {}
    peak = 0
    while child.poll() is None:
        seen = _session(child.pid)
        for pid, (seconds, _) in seen.items():
            cpu[pid] = max(cpu.get(pid, 0.0), seconds)
        peak = max(peak, sum(rss for _, rss in seen.values()))
        time.sleep(INTERVAL)
    wall = time.perf_counter() - began
    for pid, (seconds, _) in _session(child.pid).items():  # stragglers, if any
        cpu[pid] = max(cpu.get(pid, 0.0), seconds)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The kernel's figure covers the command and the descendants it waited for; the
    # readings cover every process but miss each one's last 50 ms. Take the larger.
    total = max(usage.ru_utime + usage.ru_stime, sum(cpu.values()))
    peak = max(peak, usage.ru_maxrss * 1024)
    print(
        json.dumps(
            {
                "returncode": child.returncode,
                "wall_s": wall,
                "cpu_s": total,
                "cpu_main_s": cpu.get(child.pid, 0.0),
                "peak_rss_mb": peak / 2**20,
            }
        )
    )
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
