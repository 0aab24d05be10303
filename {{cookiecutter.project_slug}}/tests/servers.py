"""The API served for real, by gunicorn with the project's gunicorn.conf.py, on a free loopback port; and
the README's nginx.conf, made to run as a test's own process.

Used by the browser, probe and proxy tests here, and by the template's own gunicorn, load, policy,
journey and benchmark runs.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Gunicorn:
    """A gunicorn master started by start_gunicorn: its process, the URL it serves, what it printed."""

    process: subprocess.Popen
    url: str
    log_path: Path
    # The certificate it serves https with, if any.
    certificate: Path | None = None

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def start_gunicorn(
    project: Path, env: dict[str, str], app: str = "", tls: tuple[Path, Path] | None = None
) -> Iterator[Gunicorn]:
    """Run gunicorn as production does, in `project`, for a `with` block.

    gunicorn reads the project's gunicorn.conf.py from the working directory and serves `app` (by
    default the project's wsgi module) from src/. Its environment is `env` and PATH, nothing else,
    so no variable of the shell changes what a test proves. PORT is a free port, and --bind keeps
    gunicorn on 127.0.0.1 where the file says 0.0.0.0; XDG_RUNTIME_DIR gives each gunicorn a
    control socket of its own. With `tls`, a (certificate, key) pair, it serves https. The block
    may stop gunicorn itself; otherwise it ends with SIGTERM, then SIGKILL after 30 seconds.
    """
    (package,) = {path.parent.name for path in project.glob("src/*/wsgi.py")}
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "gunicorn.log"
        environ = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(project / "src"),
            "XDG_RUNTIME_DIR": folder,
            "PORT": str(port),
            **env,
        }
        command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", app or f"{package}.wsgi:app"]
        if tls:
            command += ["--certfile", str(tls[0]), "--keyfile", str(tls[1])]
        with log_path.open("w") as log:
            process = subprocess.Popen(command, cwd=project, env=environ, stdout=log, stderr=subprocess.STDOUT)
        try:
            scheme = "https" if tls else "http"
            yield Gunicorn(process, f"{scheme}://127.0.0.1:{port}", log_path, tls[0] if tls else None)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def serve_with_gunicorn(
    project: Path, env: dict[str, str], app: str = "", tls: tuple[Path, Path] | None = None
) -> Iterator[Gunicorn]:
    """start_gunicorn, once /api/health answers 200; RuntimeError, with gunicorn's output, if not within 30 s."""
    with start_gunicorn(project, env, app, tls) as server:
        deadline = time.monotonic() + 30
        while not answers_health_check(server.url, server.certificate):
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not serve /api/health:\n{server.log()}")
            time.sleep(0.1)
        yield server


def answers_health_check(url: str, certificate: Path | None = None) -> bool:
    try:
        with urllib.request.urlopen(  # noqa: S310 (http or https://127.0.0.1)
            f"{url}/api/health", timeout=1, context=trusting(certificate)
        ) as response:
            return response.status == 200
    except OSError:
        return False


def trusting(certificate: Path | None) -> ssl.SSLContext | None:
    """A TLS context that trusts the test server's own `certificate`, whatever host it names (the
    server is on 127.0.0.1); None for a server over http."""
    if certificate is None:
        return None
    context = ssl.create_default_context(cafile=str(certificate))
    context.check_hostname = False
    return context


# Where the README's nginx.conf sends requests, and what it listens on.
README_UPSTREAM = "127.0.0.1:8000"
NGINX_LISTEN = "listen 80;"
# What a test adds to it: nginx in the foreground as the test's user, every file it writes in the test's folder.
NGINX_OPTIONS = "daemon off; master_process off; pid {folder}/nginx.pid;"
NGINX_HTTP = """
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
"""


def nginx_command(
    nginx: str, conf: str, folder: Path, port: int, upstream: str, location: str = "", http: str = ""
) -> list[str]:
    """Write the README's nginx.conf `conf` into `folder`, listening on 127.0.0.1:`port` and passing to
    `upstream` (host:port), with `location` directives added inside its location and `http` ones inside
    its http block; return the command that runs it with the program `nginx`."""
    conf = conf.replace(README_UPSTREAM, upstream)
    if conf.count(NGINX_LISTEN) != 1:
        raise ValueError(f"the README's nginx.conf has no single {NGINX_LISTEN!r}")
    conf = conf.replace(NGINX_LISTEN, f"listen 127.0.0.1:{port};")
    end_of_location = conf.index("\n        }", conf.index("location "))
    conf = f"{conf[:end_of_location]}\n            {location}{conf[end_of_location:]}"
    opening = conf.index("http {") + len("http {")
    conf = conf[:opening] + NGINX_HTTP.format(folder=folder) + f"    {http}\n" + conf[opening:]
    (folder / "nginx.conf").write_text(conf)
    options = NGINX_OPTIONS.format(folder=folder)
    return [nginx, "-p", str(folder), "-e", "stderr", "-g", options, "-c", str(folder / "nginx.conf")]
