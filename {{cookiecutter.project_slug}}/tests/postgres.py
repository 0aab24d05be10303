"""A throwaway PostgreSQL server for `pytest -m postgres`: Debian's binaries, run as the test's own process.

Its files are under a temporary folder, its socket too (-k), it listens on a free loopback port, and it
is stopped and deleted after the tests. initdb refuses to run as root (CI runs as root): there the
server runs as the `postgres` user that Debian's package creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servers import free_port

# Debian's postgresql package: initdb and pg_ctl are here, not on PATH. The newest version wins.
BINARIES = Path("/usr/lib/postgresql")
USER = "api"


def find_binaries() -> Path | None:
    found = sorted(BINARIES.glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3].partition(".")[0]))
    return found[-1].parent if found else None


@contextmanager
def postgres_server(binaries: Path) -> Iterator[str]:
    """A running server with an empty database; yields its SQLAlchemy URL."""
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    with tempfile.TemporaryDirectory(prefix="postgres-") as folder:
        if as_owner:
            shutil.chown(folder, "postgres")
        data, log = Path(folder) / "data", Path(folder) / "server.log"
        initdb = [binaries / "initdb", "-D", data, "-U", USER, "--auth=trust", "--encoding=UTF8", "--no-sync"]
        subprocess.run([*as_owner, *initdb], check=True, capture_output=True)
        port = free_port()
        # No fsync: a test server's data is thrown away, and fsync is what makes writes slow.
        options = f"-h 127.0.0.1 -p {port} -k {folder} -F"
        start = [binaries / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start"]
        started = subprocess.run([*as_owner, *start], capture_output=True, text=True)
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {started.stdout}{started.stderr}{log.read_text()}")
        try:
            yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*as_owner, binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
