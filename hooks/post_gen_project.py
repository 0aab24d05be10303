"""Write the local .env and print the next steps. Offline, and safe to run twice: an existing
.env holds the developer's own values, so it is never overwritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def write_local_dotenv(project_dir: Path) -> bool:
    """Copy .env.example (APP_ENV=development) to .env unless one exists; True if written."""
    dotenv = project_dir / ".env"
    if dotenv.exists():
        return False
    shutil.copyfile(project_dir / ".env.example", dotenv)
    return True


def next_steps(slug: str) -> str:
    return (
        f"\nCreated {slug}/ with a development .env. Next:\n"
        f"  cd {slug}\n"
        "  python3 tasks.py serve    # the API on http://127.0.0.1:5000, open to local front ends\n"
        "  python3 tasks.py test     # its tests\n"
    )


if __name__ == "__main__":
    write_local_dotenv(Path.cwd())
    print(next_steps("{{ cookiecutter.project_slug }}"))
