"""What several bench scripts share: the CPU time a server process has used, and the CPU
instructions it executed.

Figures of CPU per request matter where the load generator may bound the rate; each script
reads the server's CPU time before and after a round (Linux ``/proc``; elsewhere
:func:`cpu_seconds` gives ``None`` and the figure is left out, while the scripts that need the
figure use :func:`proc_cpu_seconds`, which raises). On a shared machine CPU seconds move with
the neighbours; :class:`CallgrindServer` counts instructions instead, which do not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator


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


# -- instruction counts under valgrind's callgrind -------------------------------------------


def callgrind_missing() -> str | None:
    """What is missing to count instructions (``None``: valgrind and callgrind_control are
    installed)."""
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install valgrind)"
    return None


class CallgrindProcess:
    """A process run under valgrind's callgrind, counting the CPU instructions it executes
    only while :meth:`counting` is active (instrumentation is off until then, so its start-up
    costs nothing and counts nothing).

    Instruction counts are deterministic: the same code, input and environment give the same
    count however busy the machine is, where CPU seconds move with the neighbours.

    Args:
        argv: the command; it talks to this object through its stdin and stdout (text lines).
        out_file: where callgrind writes its counts.
    """

    def __init__(self, argv: list[str], out_file: str) -> None:
        self._out_file = out_file
        self.process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out_file}",
                *argv,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def read_line(self) -> str:
        """The next line the process printed (stripped)."""
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def write_line(self, line: str = "") -> None:
        """Send the process a line."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def _control(self, *args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(self.process.pid)], check=True, capture_output=True
        )

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        """Count the instructions executed inside the ``with`` block."""
        self._control("--instr=on")
        try:
            yield
        finally:
            self._control("--instr=off")

    def stop(self) -> int:
        """Stop the process; the instructions counted."""
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(timeout=60)
        total = None
        with open(self._out_file) as counts:
            for line in counts:
                if line.startswith("totals:"):  # at the end ("summary:" at the top may be 0)
                    total = int(line.split()[1])
        if total is None:
            raise RuntimeError(f"no instruction total in {self._out_file}")
        return total


class CallgrindServer(CallgrindProcess):
    """A server under callgrind (:class:`CallgrindProcess`) that prints its TCP port on the
    first line of its stdout once it serves."""

    def __init__(self, argv: list[str], out_file: str) -> None:
        super().__init__(argv, out_file)
        line = self.read_line()
        if not line.isdigit():
            self.process.kill()
            raise RuntimeError(f"{argv!r} under valgrind did not print its port: {line!r}")
        self.port = int(line)


def instructions_per_call(argv: list[str], out_file: str) -> float:
    """Instructions per call of a loop run by the command ``argv`` under callgrind.

    The command prepares and warms up, prints ``ready``, waits for a line, makes its calls,
    prints how many it made, and waits for a line before it exits: only the calls count.
    """
    child = CallgrindProcess(argv, out_file)
    try:
        ready = child.read_line()
        if ready != "ready":
            raise RuntimeError(f"{argv!r} under valgrind did not get ready: {ready!r}")
        with child.counting():
            child.write_line()
            calls = int(child.read_line())
        child.write_line()
    finally:
        total = child.stop()
    return total / calls


def serve_counted_calls(call: Callable[[], object], calls: int, warm_up: int = 300) -> None:
    """The command's side of :func:`instructions_per_call`: ``call`` made ``calls`` times."""
    for _ in range(warm_up):
        call()
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(calls):
        call()
    print(calls, flush=True)
    sys.stdin.readline()
