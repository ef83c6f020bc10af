"""Real Redis and PostgreSQL servers for the tests (and benchmarks): bring one up or use yours.

``MM7_TEST_REDIS_URL`` / ``MM7_TEST_DATABASE_URL`` name a server to use. Without them a throwaway
server is started on a free loopback port in a temporary directory and removed afterwards:
``redis-server`` (nothing saved to disk) and a PostgreSQL cluster made by ``initdb`` and run by
``pg_ctl``. PostgreSQL refuses to run as root: as root the cluster belongs to an unprivileged
system user (``nobody`` unless ``MM7_TEST_PG_USER`` names another).

A missing server binary is an error, never a skip: ``make test`` installs Debian's
``redis-server`` and ``postgresql`` when they are missing. Servers left behind by a test
process that was killed are stopped and removed when the next one starts a server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "MissingServer",
    "PostgresServer",
    "RedisServer",
    "free_port",
    "with_search_path",
]

_HOW_TO_GET = (
    "run `make test` (it installs Debian's redis-server and postgresql when missing), "
    "or install them yourself (`apt-get install redis-server postgresql`), "
    "or point {env} at a server you have"
)


class MissingServer(RuntimeError):
    """No server binary to start and no URL of a running server."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for_port(port: int, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s\n{detail}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _claim_directory(prefix: str) -> Path:
    """A new temporary directory marked with this process's id, after removing the servers
    and directories an earlier test process left behind when it was killed."""
    for old in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        try:
            owner = int((old / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours to judge (being created, or not made by this module)
        if _alive(owner):
            continue
        for pid_file in (old / "server.pid", old / "data" / "postmaster.pid"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int(pid_file.read_text().split()[0])
                os.kill(
                    pid, signal.SIGQUIT if pid_file.name == "postmaster.pid" else signal.SIGTERM
                )
        shutil.rmtree(old, ignore_errors=True)
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    (directory / "owner.pid").write_text(str(os.getpid()))
    return directory


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options`` making ``schema`` the search path of every session."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


class RedisServer:
    """A throwaway ``redis-server`` on a free loopback port, keeping nothing on disk."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingServer(
                "redis-server is not installed: " + _HOW_TO_GET.format(env="MM7_TEST_REDIS_URL")
            )
        self.binary = binary
        self.port = free_port()
        self.directory = _claim_directory("mm7-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (self.directory / "server.pid").write_text(str(self.process.pid))
        _wait_for_port(self.port, 10.0, "redis-server", log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10.0)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port (an empty server: nothing is saved)."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def _postgres_bindir() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path is not None and shutil.which("pg_ctl") is not None:
        return Path(on_path).resolve().parent
    # Debian keeps the server binaries out of PATH, one folder per major version.
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free loopback port (trust auth, user ``postgres``).

    Args:
        durable: keep ``fsync`` on (benchmarks of durable writes); tests run without it, which
            still survives a crash of the server process (the operating system keeps the
            written pages), only not a power loss.
    """

    def __init__(self, *, durable: bool = False) -> None:
        bindir = _postgres_bindir()
        if bindir is None:
            raise MissingServer(
                "PostgreSQL's initdb is not installed: "
                + _HOW_TO_GET.format(env="MM7_TEST_DATABASE_URL")
            )
        self.bindir = bindir
        self.durable = durable
        self.port = free_port()
        self.directory = _claim_directory("mm7-pg-")
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = os.environ.get("MM7_TEST_PG_USER", "nobody")
            entry = pwd.getpwnam(self._user)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
            self._uid, self._gid = entry.pw_uid, entry.pw_gid

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs = {"user": self._uid, "group": self._gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            timeout=timeout,
            cwd=self.directory,
            env={**os.environ, "LC_ALL": "C", "HOME": str(self.directory)},
            check=False,
            **kwargs,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace')[-2000:]}"
            )

    def start(self) -> None:
        if not self.data.exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.directory}",
            "-c max_connections=200",
            "-c shared_buffers=64MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            " ".join(options),
            "-w",
            "-t",
            "30",
            "start",
        )
        _wait_for_port(self.port, 10.0, "postgres", self.log)

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far: the postmaster and its backends, live or gone."""
        ticks = os.sysconf("SC_CLK_TCK")
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            pid = int(stat.parent.name)
            if pid == postmaster:  # its own time and that of the backends it reaped
                total += sum(int(f) for f in fields[11:15]) / ticks
            elif int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode="immediate"`` is a crash: no shutdown checkpoint)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("fast")
        shutil.rmtree(self.directory, ignore_errors=True)
