"""What several bench scripts share: the CPU time a server process has used.

Figures of CPU per request matter where the load generator may bound the rate; each script
reads the server's CPU time before and after a round (Linux ``/proc``; elsewhere ``None`` and
the figure is left out).
"""

from __future__ import annotations

import os


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process ``pid``; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
