"""A real PostgreSQL for tests and benchmarks, never a mock.

Order of preference:

1. ``GUARD_TEST_DSN`` if set (your own server; each test gets a fresh database created on it),
2. testcontainers, when a Docker engine answers,
3. a throwaway cluster from local server binaries (``initdb``/``pg_ctl``), run as an unprivileged user
   when we are root (PostgreSQL refuses to run as root).

If none can be had, :func:`start_postgres` raises :class:`NoPostgres` with instructions, so the suite fails
loudly instead of skipping.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

HOW_TO_GET_POSTGRES = (
    "No PostgreSQL available for the tests. Do one of:\n"
    "  * export GUARD_TEST_DSN=postgresql://user:pass@host:5432/postgres  (a superuser on a disposable server)\n"
    "  * start a Docker engine (testcontainers will run postgres:15)\n"
    "  * install the server binaries: apt-get install -y postgresql  (initdb/pg_ctl are found under\n"
    "    /usr/lib/postgresql/*/bin or on PATH, or set GUARD_PG_BINDIR)"
)


class NoPostgres(RuntimeError):
    pass


@dataclass
class PostgresServer:
    """A running server and how to reach it as a superuser. ``dsn`` points at database ``postgres``."""

    dsn: str
    how: str  # "env" | "testcontainers" | "local"
    _stop: list[Any] = field(default_factory=list, repr=False)

    def dsn_for(self, dbname: str) -> str:
        """Same server, another database; a URL stays a URL (asyncpg and SQLAlchemy only take URLs)."""
        import urllib.parse

        import psycopg.conninfo

        if self.dsn.startswith(("postgresql://", "postgres://")):
            parts = urllib.parse.urlsplit(self.dsn)
            return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(dbname)))
        params = psycopg.conninfo.conninfo_to_dict(self.dsn)
        params["dbname"] = dbname
        return psycopg.conninfo.make_conninfo(**params)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """Create an empty database, yield its DSN, drop it afterwards."""
        import psycopg
        from psycopg import sql

        name = f"guard_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.dsn_for(name)
        finally:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        while self._stop:
            self._stop.pop()()


def start_postgres() -> PostgresServer:
    dsn = os.environ.get("GUARD_TEST_DSN")
    if dsn:
        _wait_ready(dsn, 10)
        return PostgresServer(dsn=dsn, how="env")
    errors: list[str] = []
    if _docker_answers():
        try:
            return _start_testcontainer()
        except Exception as exc:  # pragma: no cover - depends on a Docker engine
            errors.append(f"testcontainers: {exc}")
    try:
        return _start_local_cluster()
    except NoPostgres as exc:
        errors.append(str(exc))
    raise NoPostgres(HOW_TO_GET_POSTGRES + "\nTried:\n  " + "\n  ".join(errors))


def _docker_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        path = host[len("unix://") :]
        if not os.path.exists(path):
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2)
                sock.connect(path)
                sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b"OK" in sock.recv(256)
        except OSError:
            return False
    return True  # a TCP engine: let testcontainers try


def _start_testcontainer() -> PostgresServer:  # pragma: no cover - needs a Docker engine
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer("postgres:15", driver=None)
    container.start()
    dsn = container.get_connection_url()
    server = PostgresServer(dsn=dsn, how="testcontainers")
    server._stop.append(container.stop)
    return server


def find_bindir() -> str | None:
    """Directory holding ``initdb`` and ``pg_ctl``: ``GUARD_PG_BINDIR``, the newest Debian install, or PATH."""
    explicit = os.environ.get("GUARD_PG_BINDIR")
    if explicit:
        return explicit
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0
    )
    for bindir in reversed(candidates):
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_local_cluster() -> PostgresServer:
    bindir = find_bindir()
    if not bindir:
        raise NoPostgres("local: no initdb found (GUARD_PG_BINDIR, /usr/lib/postgresql/*/bin, PATH)")
    workdir = tempfile.mkdtemp(prefix="guard-pg-")
    datadir = os.path.join(workdir, "data")
    run_as: str | None = None
    if os.geteuid() == 0:
        run_as = _unprivileged_user()
        os.chmod(workdir, 0o755)
        pw = pwd.getpwnam(run_as)
        os.chown(workdir, pw.pw_uid, pw.pw_gid)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if run_as:
            cmd = ["runuser", "-u", run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=workdir)

    init = run(
        os.path.join(bindir, "initdb"), "-D", datadir, "-U", "postgres", "--auth=trust",
        "--encoding=UTF8", "--locale=C", "--no-sync",
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise NoPostgres(f"local: initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    port = _free_port()
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={workdir} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
        "-c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min"
    )
    start = run(os.path.join(bindir, "pg_ctl"), "-D", datadir, "-l", os.path.join(workdir, "log"),
                "-o", options, "-w", "-t", "60", "start")  # fmt: skip
    if start.returncode != 0:
        log = ""
        with contextlib.suppress(OSError), open(os.path.join(workdir, "log")) as handle:
            log = handle.read()[-2000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise NoPostgres(f"local: pg_ctl start failed: {start.stderr.strip()}\n{log}")
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    server = PostgresServer(dsn=dsn, how="local")

    def stop() -> None:
        run(os.path.join(bindir, "pg_ctl"), "-D", datadir, "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)

    server._stop.append(stop)
    _wait_ready(dsn, 30)
    return server


def _unprivileged_user() -> str:
    """An existing unprivileged account to own the cluster; create ``guardpg`` if there is none we can use."""
    for name in ("guardpg", "postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "guardpg"], check=True, capture_output=True)
    return "guardpg"


def _wait_ready(dsn: str, seconds: float) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise NoPostgres(f"server at {dsn} did not answer: {exc}") from None
            time.sleep(0.2)
