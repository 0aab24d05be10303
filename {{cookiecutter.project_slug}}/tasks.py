"""The project's commands, for a machine with nothing but Python:

    python3 tasks.py serve         run the API locally (development: any localhost port may call it)
    python3 tasks.py playground    watch a browser allow and block calls to the API, page by page
    python3 tasks.py test          run the tests

Each creates .venv on first use and installs the project with its dev extra into it, again
whenever pyproject.toml changes. Further arguments go to `flask run`, the playground or `pytest`.
`serve` and `playground` first copy .env.example to .env when there is no .env (a fresh clone:
.env is git-ignored), so they start in development.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = "{{ cookiecutter.package_name }}"


def venv_bin(venv_dir: Path, program: str) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / program


def ensure_venv(venv_dir: Path, install_args: list[str], inputs: list[Path]) -> Path:
    """Create `venv_dir` and `pip install` `install_args` into it, unless `inputs` are unchanged."""
    stamp = venv_dir / ".installed"
    fingerprint = b"".join(path.read_bytes() for path in inputs) + " ".join(install_args).encode()
    digest = hashlib.sha256(fingerprint).hexdigest()
    if not (stamp.exists() and stamp.read_text() == digest):
        if not venv_bin(venv_dir, "python").exists():
            print(f"Creating {venv_dir}", flush=True)
            venv.create(venv_dir, with_pip=True)
        pip = [str(venv_bin(venv_dir, "python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, *install_args], check=True)
        stamp.write_text(digest)
    return venv_dir


def write_local_dotenv(project: Path) -> bool:
    """Copy .env.example (APP_ENV=development) to .env unless one exists; True if written.

    The post-generation hook calls it too: a .env that exists holds the developer's own values.
    """
    dotenv = project / ".env"
    if dotenv.exists():
        return False
    shutil.copyfile(project / ".env.example", dotenv)
    return True


def main(argv: list[str]) -> int:
    command, arguments = (argv[0], argv[1:]) if argv else ("", [])
    programs = {
        "serve": ["flask", "--app", PACKAGE, "run", "--debug"],
        "playground": ["python", "-m", f"{PACKAGE}.cors.playground"],
        "test": ["pytest"],
    }
    if command not in programs:
        print(__doc__)
        return 2
    if command != "test" and write_local_dotenv(ROOT):
        print("Created .env from .env.example (APP_ENV=development): your local settings, git-ignored", flush=True)
    venv_dir = ensure_venv(ROOT / ".venv", ["--editable", f"{ROOT}[dev]"], [ROOT / "pyproject.toml"])
    program, *options = programs[command]
    try:
        return subprocess.run([venv_bin(venv_dir, program), *options, *arguments], cwd=ROOT).returncode
    except KeyboardInterrupt:  # Ctrl-C reached the program too, and stopped it: no traceback here
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
