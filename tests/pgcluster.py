"""A throw-away PostgreSQL + PostGIS cluster on loopback for the tests.

Started in a temporary directory on a free port with password authentication, stopped and
deleted at the end. As root, the server runs as the ``postgres`` system user (initdb refuses
root). Set ``EST_TEST_PG_DSN`` to use an existing server instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
SUPERUSER = "est_test"
PASSWORD = "Test-lösen-1"


@dataclass
class Cluster:
    host: str
    port: int
    user: str
    password: str
    directory: Path | None = None
    run_as: list[str] | None = None

    def dsn(self, dbname: str = "postgres") -> dict[str, object]:
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password, "dbname": dbname}

    def stop(self) -> None:
        if self.directory is None:
            return
        _run([*(self.run_as or []), str(_bin("pg_ctl")), "-D", str(self.directory / "data"), "-m", "immediate",
              "-w", "stop"], check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def _bin(name: str) -> Path:
    for folder in PG_BIN_CANDIDATES:
        if (folder / name).exists():
            return folder / name
    found = shutil.which(name)
    if found:
        return Path(found)
    raise RuntimeError(f"PostgreSQL's {name} not found: install postgresql (make test does)")


def _run(command: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> Cluster:
    directory = Path(tempfile.mkdtemp(prefix="est-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(directory, "postgres", "postgres")
    directory.chmod(0o755)
    password_file = directory / "pw"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    if run_as:
        shutil.chown(password_file, "postgres", "postgres")
    _run([*run_as, str(_bin("initdb")), "-D", str(directory / "data"), "-U", SUPERUSER, "--pwfile", str(password_file),
          "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8"])
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={directory} -c fsync=off " \
              "-c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
    _run([*run_as, str(_bin("pg_ctl")), "-D", str(directory / "data"), "-o", options, "-l", str(directory / "log"),
          "-w", "-t", "60", "start"])
    cluster = Cluster("127.0.0.1", port, SUPERUSER, PASSWORD, directory, run_as)
    _wait(cluster)
    return cluster


def _wait(cluster: Cluster) -> None:
    import psycopg2

    deadline = time.time() + 30
    while True:
        try:
            psycopg2.connect(**cluster.dsn()).close()
            return
        except psycopg2.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def from_environment() -> Cluster | None:
    dsn = os.environ.get("EST_TEST_PG_DSN")
    if not dsn:
        return None
    import psycopg2.extensions

    parts = psycopg2.extensions.parse_dsn(dsn)
    return Cluster(parts.get("host", "127.0.0.1"), int(parts.get("port", 5432)), parts.get("user", ""),
                   parts.get("password", ""))


def create_database(cluster: Cluster, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(**cluster.dsn())
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def connection_info(cluster: Cluster, dbname: str, *, fresh: bool = False):  # noqa: ANN201
    """The plugin's connection info for *dbname* on *cluster* (created empty first when *fresh*)."""
    from est_weekly_plugin.store import PgConnectionInfo

    if fresh:
        create_database(cluster, dbname)
    return PgConnectionInfo(host=cluster.host, port=cluster.port, dbname=dbname, user=cluster.user,
                            password=cluster.password)
