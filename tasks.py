"""The template's commands, for a machine with nothing but Python:

    python3 tasks.py demo     bake the default project into build/demo and serve it locally
    python3 tasks.py test     run every test of the template (further arguments go to pytest)
    python3 tasks.py bench    measure what the generated CORS policy costs (benchmarks/run.py; needs wrk)

Each creates .venv on first use and installs requirements-dev.txt into it. The virtual-environment
bootstrap is the generated project's own tasks.py, loaded from the template folder, so the two
never drift apart.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TEMPLATE_DIR = ROOT / "{{cookiecutter.project_slug}}"
REQUIREMENTS = ROOT / "requirements-dev.txt"
DEMO_DIR = ROOT / "build" / "demo"


def load_project_tasks():
    spec = importlib.util.spec_from_file_location("project_tasks", TEMPLATE_DIR / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    command, arguments = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("demo", "test", "bench"):
        print(__doc__)
        return 2
    project_tasks = load_project_tasks()
    venv_dir = project_tasks.ensure_venv(ROOT / ".venv", ["-r", str(REQUIREMENTS)], [REQUIREMENTS])
    python = str(project_tasks.venv_bin(venv_dir, "python"))
    if command == "test":
        return subprocess.run([python, "-m", "pytest", *arguments], cwd=ROOT).returncode
    if command == "bench":
        return subprocess.run([python, ROOT / "benchmarks" / "run.py", *arguments], cwd=ROOT).returncode
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    bake = [python, "-m", "cookiecutter", "--no-input", "--output-dir", str(DEMO_DIR), str(ROOT)]
    subprocess.run(bake, check=True)
    (project,) = DEMO_DIR.iterdir()
    return subprocess.run([sys.executable, "tasks.py", "serve", *arguments], cwd=project).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
