"""The project's commands, for a machine with nothing but Python:

    python3 tasks.py serve         run the API locally (development: any localhost port may call it)
    python3 tasks.py playground    watch a browser allow and block calls to the API, page by page
    python3 tasks.py test          run the tests, spread over the cores (`test -n 0`: in one process)
    python3 tasks.py lint          ruff check and ruff format --check, as CI runs them (`lint --fix`: fix
                                   what ruff can fix, and format)
    python3 tasks.py lock          update uv.lock after editing pyproject.toml's dependencies (uv lock's
                                   options follow: `--upgrade-package flask`, `--upgrade`, `--check`)

Each creates .venv on first use and installs into it exactly what uv.lock pins, hashes checked, with
the dev extra; again whenever pyproject.toml or uv.lock changes. A uv.lock older than pyproject.toml's
dependencies stops them first, naming `python3 tasks.py lock`. Further arguments go to `flask run`,
the playground, `pytest` or `uv lock`. `serve` and `playground` first write .env from .env.example,
with a SECRET_KEY of its own, when there is no .env (a fresh clone: .env is git-ignored), so they
start in development.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = "{{ cookiecutter.package_name }}"
# The version of uv that writes uv.lock and reads it back for pip; Dockerfile installs the same.
UV = "uv=={{ cookiecutter._uv_version }}"
# "postgresql": `serve` first brings the development database up to the newest migration; "none": no database.
DATABASE = "{{ cookiecutter.database }}"


def venv_bin(venv_dir: Path, program: str) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / program


def pip_install(*arguments: str) -> list[str]:
    """A command for `ensure_venv`: the venv's pip installing `arguments`, quietly."""
    return ["python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments]


def ensure_venv(venv_dir: Path, inputs: list[Path], *commands: list[str]) -> Path:
    """Create `venv_dir` and run `commands` in it (each starts with a program of the venv), unless
    neither `inputs` nor `commands` changed since they last ran."""
    stamp = venv_dir / ".installed"
    fingerprint = b"".join(path.read_bytes() for path in inputs) + repr(commands).encode()
    digest = hashlib.sha256(fingerprint).hexdigest()
    if not (stamp.exists() and stamp.read_text() == digest):
        if not venv_bin(venv_dir, "python").exists():
            print(f"Creating {venv_dir}", flush=True)
            venv.create(venv_dir, with_pip=True)
        for program, *arguments in commands:
            subprocess.run([venv_bin(venv_dir, program), *arguments], check=True)
        stamp.write_text(digest)
    return venv_dir


def install_locked(venv_dir: Path) -> Path:
    """The project and its dev extra in `venv_dir`, at uv.lock's versions. uv only reads the lock
    (--frozen: no resolving, no index); pip installs what it exports in hash-checking mode, so a file
    that is not the one locked is refused, then the project itself, editable."""
    requirements = str(venv_dir / "requirements.txt")
    export = ["--frozen", "--quiet", "--extra", "dev", "--no-emit-project", "--format", "requirements-txt"]
    return ensure_venv(
        venv_dir,
        [ROOT / "pyproject.toml", ROOT / "uv.lock"],
        pip_install(UV),
        ["uv", "export", "--project", str(ROOT), *export, "--output-file", requirements],
        pip_install("--require-hashes", "--requirement", requirements),
        pip_install("--no-deps", "--editable", str(ROOT)),
    )


def stale_lock_problem(project: Path) -> str | None:
    """Why uv.lock does not hold what pyproject.toml declares, in one line; None when it does.

    uv.lock records the project's own requirements as they were when it was made (the requires-dist of
    its own package): one added, removed or changed in pyproject.toml since shows as a difference. Read
    from the two files alone, offline, before anything is installed from a lock that would miss it.
    """
    fix = "run `python3 tasks.py lock`, then commit uv.lock"
    if not (project / "uv.lock").is_file():
        return f"There is no uv.lock: {fix}"
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    declared = {_requirement(text, None) for text in metadata.get("dependencies", [])}
    for extra, texts in metadata.get("optional-dependencies", {}).items():
        declared |= {_requirement(text, extra) for text in texts}
    packages = tomllib.loads((project / "uv.lock").read_text()).get("package", [])
    own = [package for package in packages if package["name"] == _canonical(metadata["name"])]
    locked = {_locked_requirement(entry) for package in own for entry in package["metadata"]["requires-dist"]}
    changed = sorted({name for name, *_ in declared ^ locked})
    if changed:
        return f"uv.lock is older than pyproject.toml's dependencies ({', '.join(changed)}): {fix}"
    return None


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement(text: str, extra: str | None) -> tuple:
    """(name, extras, specifiers, extra) of a requirement as pyproject.toml writes it: `psycopg[binary]>=3.2`."""
    name, extras, specifiers = re.fullmatch(r"\s*([\w.-]+)\s*(?:\[([^]]*)\])?([^;]*)(?:;.*)?", text).groups()
    items = frozenset(item.replace(" ", "") for item in specifiers.split(",") if item.strip())
    extra_names = frozenset(item.strip() for item in (extras or "").split(",") if item.strip())
    return _canonical(name), extra_names, items, extra


def _locked_requirement(entry: dict) -> tuple:
    """The same, as uv.lock records it: `{ name = "pytest", marker = "extra == 'dev'", specifier = ">=8" }`."""
    extra = re.search(r"extra == '([^']+)'", entry.get("marker", ""))
    items = frozenset(item.strip() for item in entry.get("specifier", "").split(",") if item.strip())
    return _canonical(entry["name"]), frozenset(entry.get("extras", [])), items, extra and extra[1]


def parallel_options(arguments: list[str], environ: dict[str, str] = os.environ) -> list[str]:
    """pytest-xdist's options that spread the tests over up to 4 of the machine's cores, put before `arguments`
    so that theirs win (`-n 0`, `-n 8`, `--dist load`). None where one process serves better: on a single
    core, where a worker only adds its start-up; for a run that picks tests by marker (`-m browser`...), whose
    servers each worker would start again; for `-s`, whose output workers would not show; when
    PYTEST_ADDOPTS sets xdist's own options, which ours would override; and when the plugin is off (`-p
    no:xdist` or PYTEST_DISABLE_PLUGIN_AUTOLOAD), where pytest would refuse `-n`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    addopts = shlex.split(environ.get("PYTEST_ADDOPTS", ""))
    given = [*addopts, *arguments]
    one_process = (
        cores < 2
        or any(argument.startswith("-m") for argument in given)
        or any(argument in ("-s", "--capture=no") for argument in given)
        or any(argument.startswith(("-n", "--numprocesses", "--dist")) for argument in addopts)
        or any(argument.endswith("no:xdist") for argument in given)
        or "PYTEST_DISABLE_PLUGIN_AUTOLOAD" in environ
    )
    # Each worker imports the app and collects the whole suite: beyond 4, more cost more than they save.
    # worksteal: a worker that runs out takes tests from another, so the few slow tests hold none up.
    return [] if one_process else ["-n", "auto", "--maxprocesses", "4", "--dist", "worksteal"]


def lint(venv_dir: Path, fix: bool) -> int:
    """ruff check and ruff format --check, as CI runs them; with `fix`, ruff's fixes and formatting instead."""
    ruff = venv_bin(venv_dir, "ruff")
    commands = (["check", "--fix"], ["format"]) if fix else (["check"], ["format", "--check"])
    failed = [command for command in commands if subprocess.run([ruff, *command, "."], cwd=ROOT).returncode != 0]
    if failed and not fix:
        print("Lint failed: `python3 tasks.py lint --fix` fixes what ruff can fix, and formats.", file=sys.stderr)
    return 1 if failed else 0


def write_local_dotenv(project: Path) -> bool:
    """Copy .env.example (APP_ENV=development) to .env, with a random SECRET_KEY of its own, unless a .env
    exists (it holds the developer's own values); True if written. The post-generation hook calls it too."""
    dotenv = project / ".env"
    if dotenv.exists():
        return False
    shutil.copyfile(project / ".env.example", dotenv)
    with dotenv.open("a") as file:
        file.write("\n# This checkout's own, made when .env was written; .env stays out of git.\n")
        file.write(f"SECRET_KEY={secrets.token_urlsafe(32)}\n")
    return True


def main(argv: list[str]) -> int:
    command, arguments = (argv[0], argv[1:]) if argv else ("", [])
    programs = {
        "serve": ["flask", "--app", PACKAGE, "run", "--debug"],
        "playground": ["python", "-m", f"{PACKAGE}.cors.playground"],
        "test": ["pytest"],
        "lock": ["uv", "lock"],
    }
    if command not in (*programs, "lint") or (command == "lint" and arguments not in ([], ["--fix"])):
        print(__doc__)
        return 2
    problem = None if command == "lock" else stale_lock_problem(ROOT)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    if command in ("serve", "playground") and write_local_dotenv(ROOT):
        print("Created .env from .env.example (APP_ENV=development): your local settings, git-ignored", flush=True)
    venv_dir = install_locked(ROOT / ".venv")
    if command == "lint":
        return lint(venv_dir, fix=bool(arguments))
    program, *options = programs[command]
    if command == "test":
        options += parallel_options(arguments)
    if command == "serve" and DATABASE != "none":
        migrate = [venv_bin(venv_dir, "flask"), "--app", PACKAGE, "db", "upgrade", "head"]
        migrated = subprocess.run(migrate, cwd=ROOT)
        if migrated.returncode != 0:
            return migrated.returncode
    try:
        return subprocess.run([venv_bin(venv_dir, program), *options, *arguments], cwd=ROOT).returncode
    except KeyboardInterrupt:  # Ctrl-C reached the program too, and stopped it: no traceback here
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
