"""What several bench scripts share: the CPU time a server process has used.

Figures of CPU per request matter where the load generator may bound the rate; each script
reads the server's CPU time before and after a round (Linux ``/proc``; elsewhere
:func:`cpu_seconds` gives ``None`` and the figure is left out, while the scripts that need the
figure use :func:`proc_cpu_seconds`, which raises).
"""

from __future__ import annotations

import os


def proc_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process ``pid``, from /proc (OSError without)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid``; None without /proc."""
    try:
        return proc_cpu_seconds(pid)
    except OSError:
        return None
