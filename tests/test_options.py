"""Every answer: a compact matrix of bakes that each lint and pass their own tests; the Dockerfile,
Kubernetes manifest and workflows checked by the tools that consume them; and the template
repository's own CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import DEPLOYED_DATABASE, ROOT, bake, free_port, jinja_leftovers, run, run_project_suite

BIN = Path(sys.executable).parent

# The default answers, as cookiecutter.json gives them: this row is the session's default bake.
DEFAULT_ROW = {
    "use_docker": True,
    "ci": "github",
    "use_pre_commit": True,
    "python_version": "3.11",
    "database": "postgresql",
    "auth": "none",
}
# Every answer at every value at least once. Every two of the three deployment answers meet in all four
# combinations of their values (pairwise); python_version takes one value per row, database too (`none`
# in the last row), and auth (`session` and `token` in the two middle rows); the other answers take their
# non-default value in one row or two, and the matrix test checks the value reaches the project.
MATRIX = [
    DEFAULT_ROW,
    {
        "use_docker": True,
        "ci": "none",
        "use_pre_commit": False,
        "python_version": "3.12",
        "database": "postgresql",
        "auth": "session",
        "allow_credentials": True,
        "project_slug": "billing",
        "package_name": "billing_core",
    },
    {
        "use_docker": False,
        "ci": "github",
        "use_pre_commit": False,
        "python_version": "3.13",
        "database": "postgresql",
        "auth": "token",
        "project_name": "Orders Service",
        "description": "Takes orders.",
        "author_name": "Ada",
        "author_email": "ada@example.org",
    },
    {
        "use_docker": False,
        "ci": "none",
        "use_pre_commit": True,
        "python_version": "3.14",
        "database": "none",
        "auth": "none",
        "allow_credentials": True,
        "production_origins": "https://shop.example.org, https://admin.example.org:8443 https://*.pr.example.org",
    },
]
# The files each answer adds to the project, when chosen; the README and docs name each of them then, and only then.
OPTIONAL_FILES = {
    "use_docker": ["Dockerfile", ".dockerignore", "deploy/kubernetes.yaml", "docs/docker.md"],
    "ci": [".github/workflows/ci.yml", ".github/workflows/canary.yml", ".github/dependabot.yml"],
    "use_pre_commit": [".pre-commit-config.yaml"],
    "database": ["docs/database.md"],
    "auth": ["docs/sign-in.md"],
}


def bake_row(cookies, default_project: Path, answers: dict) -> Path:
    """The project `answers` bake: the session's default bake for DEFAULT_ROW, which need not be baked again."""
    return default_project if answers == DEFAULT_ROW else bake(cookies, **answers)


def test_default_row_holds_the_default_answers():
    defaults = json.loads((ROOT / "cookiecutter.json").read_text())
    assert {
        answer: value if not isinstance(value, list) else value[0]
        for answer, value in defaults.items()
        if answer in DEFAULT_ROW
    } == DEFAULT_ROW


def row_id(answers: dict) -> str:
    docker = "docker" if answers["use_docker"] else "no-docker"
    pre_commit = "pre-commit" if answers["use_pre_commit"] else "no-pre-commit"
    return f"{docker}-ci-{answers['ci']}-{pre_commit}-py{answers['python_version']}"


def rows(answer: str) -> list:
    """The matrix rows that choose `answer`, for the tests of the files it adds."""
    return [pytest.param(answers, id=row_id(answers)) for answers in MATRIX if chosen(answers, answer)]


def chosen(answers: dict, answer: str) -> bool:
    return answers[answer] not in (False, "none")


def instructions(dockerfile: Path) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n\s*", "", dockerfile.read_text())
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def check_github_workflow(workflow: Path, schema: str = "vendor.github-workflows") -> dict:
    """The workflow (or other GitHub file), once it has passed its schema (vendored in check-jsonschema: offline)."""
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(workflow)]
    result = subprocess.run(check, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml.safe_load(workflow.read_text())


def exec_form(instruction: str) -> list[str]:
    """The command of a CMD or HEALTHCHECK instruction, written in JSON."""
    return json.loads(instruction.partition("CMD ")[2])


@pytest.mark.parametrize("answers", [pytest.param(answers, id=row_id(answers)) for answers in MATRIX])
def test_matrix_bake_has_the_chosen_files_lints_and_passes_its_tests(cookies, default_project, answers):
    project = bake_row(cookies, default_project, answers)
    docs = "\n".join(path.read_text() for path in [project / "README.md", *(project / "docs").glob("*.md")])
    for answer, paths in OPTIONAL_FILES.items():
        for path in paths:
            assert (project / path).is_file() == chosen(answers, answer), path
            assert (path in docs) == chosen(answers, answer), f"README or docs/ and {path}"
    assert (project / "deploy").exists() == answers["use_docker"]
    assert (project / ".github").exists() == (answers["ci"] == "github")
    assert jinja_leftovers(project) == []
    text = "\n".join(path.read_text(errors="replace") for path in project.rglob("*") if path.is_file())
    for answer, value in answers.items():
        if isinstance(value, str) and answer not in OPTIONAL_FILES:  # those are checked by their files above
            assert value.split(",")[0] in text, value
    for command in (["check", "."], ["format", "--check", "."]):
        lint = run(project, sys.executable, "-m", "ruff", *command)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    suite = run_project_suite(project)
    assert suite.returncode == 0, suite.stdout + suite.stderr


@pytest.mark.parametrize("answers", rows("use_docker"))
def test_dockerfile_passes_hadolint_and_its_commands_work(cookies, default_project, tmp_path, answers):
    project = bake_row(cookies, default_project, answers)
    dockerfile = project / "Dockerfile"
    lint = subprocess.run([BIN / "hadolint", dockerfile], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    steps = instructions(dockerfile)
    base = f"python:{answers['python_version']}-slim"
    assert [step for step in steps if step.startswith("FROM ")] == [f"FROM {base} AS build", f"FROM {base}"]
    # The build stage installs uv.lock's pins, hashes checked; the image keeps its venv and runs as a user.
    (install,) = (step for step in steps if "uv export" in step)
    assert "uv export --frozen" in install and "--require-hashes" in install
    assert "COPY --from=build /opt/venv /opt/venv" in steps
    assert "USER 10001" in steps
    assert ".env" in (project / ".dockerignore").read_text().splitlines()
    assert ".venv/" in (project / ".dockerignore").read_text().splitlines()

    # What the container runs, run here: the CMD on the PORT given, then the HEALTHCHECK against it.
    (health_check,) = (exec_form(step) for step in steps if step.startswith("HEALTHCHECK"))
    (command,) = (exec_form(step) for step in steps if step.startswith("CMD"))
    assert command[0] == "gunicorn"
    assert health_check[0] == "python"
    port = str(free_port())
    # A production container needs its allowlist, and with credentials on the SECRET_KEY its Secret gives.
    # XDG_RUNTIME_DIR: where gunicorn puts its control socket.
    environment = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PORT": port,
        "APP_ENV": "production",
        "CORS_ORIGINS": "https://app.example.com",
        "SECRET_KEY": "a-test-secret-key-of-at-least-32-characters",
        **DEPLOYED_DATABASE,
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [BIN / "gunicorn", *command[1:]], cwd=project, env=environment, stdout=output, stderr=output
        )
    try:
        check = [sys.executable, *health_check[1:]]
        deadline = time.monotonic() + 30
        while run(project, *check, env={"PORT": port}).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert run(project, *check, env={"PORT": port}).returncode != 0, "the health check passes with no server"


@pytest.mark.parametrize("answers", rows("use_docker"))
def test_kubernetes_manifest_probes_health_and_configures_a_valid_allowlist(cookies, default_project, answers):
    project = bake_row(cookies, default_project, answers)
    manifest = (project / "deploy" / "kubernetes.yaml").read_text()
    documents = {document["kind"]: document for document in yaml.safe_load_all(manifest)}
    assert set(documents) == {"ConfigMap", "Deployment", "Service", "NetworkPolicy"}
    config_map, deployment, service = documents["ConfigMap"], documents["Deployment"], documents["Service"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert deployment["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"] == service["spec"]["selector"]
    # Only the ingress controller's pods reach the API's, on its port: no client goes around the trusted proxy.
    network_policy = documents["NetworkPolicy"]["spec"]
    assert network_policy["podSelector"]["matchLabels"] == pod["metadata"]["labels"]
    assert network_policy["policyTypes"] == ["Ingress"]
    (rule,) = network_policy["ingress"]
    (source,) = rule["from"]
    assert set(source) == {"namespaceSelector", "podSelector"}  # one entry: pods of that namespace, both at once
    assert [port["port"] for port in rule["ports"]] == ["http"]
    assert config_map["data"]["TRUSTED_PROXY_HOPS"] == "1"
    assert config_map["data"]["TRUSTED_PROXIES"]
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["envFrom"] == [
        {"configMapRef": {"name": config_map["metadata"]["name"]}},
        {"secretRef": {"name": config_map["metadata"]["name"], "optional": True}},
    ]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/api/health"
        assert container[probe]["httpGet"]["port"] in ports
    assert service["spec"]["ports"][0]["targetPort"] in ports
    # The migrations run before the app in each pod, with the app's image and variables; none without a database.
    migrations = pod["spec"].get("initContainers", [])
    assert [init["command"] for init in migrations] == (
        [["flask", "--app", answers.get("package_name", "my_api"), "db", "upgrade", "head"]]
        if chosen(answers, "database")
        else []
    )
    assert all(init["image"] == container["image"] and init["envFrom"] == container["envFrom"] for init in migrations)
    # The container listens where gunicorn binds: the image's PORT, as the ConfigMap leaves it.
    assert "PORT" not in config_map["data"]
    assert f"PORT={next(iter(ports.values()))}" in (project / "Dockerfile").read_text()

    package = answers.get("package_name", "my_api")
    read_settings = (
        "import json, sys\n"
        f"from {package}.settings import Settings\n"
        "settings = Settings.from_environ(json.load(sys.stdin))\n"
        "print(settings.environment, *settings.policy().allowlist.describe())"
    )
    # What the pod gets: the ConfigMap's variables and, with credentials on, the Secret's SECRET_KEY.
    pod_environment = {
        **config_map["data"],
        "SECRET_KEY": "a-test-secret-key-of-at-least-32-characters",
        **DEPLOYED_DATABASE,
    }
    result = run(project, sys.executable, "-c", read_settings, input=json.dumps(pod_environment))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["production", "https://app.example.com"]


@pytest.mark.parametrize("answers", rows("ci"))
def test_github_workflows_match_the_schema_test_from_the_lock_and_upgrade_weekly(cookies, default_project, answers):
    project = bake_row(cookies, default_project, answers)
    workflows = project / ".github" / "workflows"
    assert "${{ github.workflow }}-${{ github.ref }}" in (workflows / "ci.yml").read_text()
    commands = {}
    for name in ("ci", "canary"):
        (job,) = check_github_workflow(workflows / f"{name}.yml")["jobs"].values()
        (setup,) = (step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
        assert setup["with"]["python-version"] == answers["python_version"]
        commands[name] = [step["run"] for step in job["steps"] if "run" in step]
    # tasks.py test installs .venv from uv.lock; CI checks the lock, the canary upgrades it first.
    assert commands["ci"] == [
        "python tasks.py test",
        ".venv/bin/uv lock --check",
        "python tasks.py lint",
    ]
    assert commands["canary"] == ["python tasks.py lock --upgrade", "python tasks.py test"]
    triggers = check_github_workflow(workflows / "canary.yml")[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    assert re.fullmatch(r"\d+ \d+ \* \* \d", triggers["schedule"][0]["cron"]), "weekly"

    updates = check_github_workflow(project / ".github" / "dependabot.yml", "vendor.dependabot")["updates"]
    assert {update["package-ecosystem"] for update in updates} == {"uv", "github-actions"}


@pytest.mark.parametrize("answers", rows("use_pre_commit"))
def test_pre_commit_configuration_runs_ruff(cookies, default_project, answers):
    project = bake_row(cookies, default_project, answers)
    (repository,) = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"]
    assert repository["repo"] == "https://github.com/astral-sh/ruff-pre-commit"
    assert [hook["id"] for hook in repository["hooks"]] == ["ruff-check", "ruff-format"]


def test_template_workflow_and_pre_commit_hook_run_the_ci_command():
    command = "python3 tasks.py test"
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
    steps = check_github_workflow(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == command
    (repository,) = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    assert [hook["entry"] for hook in repository["hooks"]] == [command]


def readme_tree() -> set[str]:
    """The paths the template README's "What you get" tree ends on (a folder shown empty ends in '/')."""
    block = (ROOT / "README.md").read_text().split("## What you get", 1)[1].split("```")[1]
    paths: set[str] = set()
    opened: set[str] = set()  # folders whose content the tree shows
    parents: list[str] = []
    for line in block.splitlines()[2:]:  # after the fence's empty rest of line and the project folder
        indent, name = re.match(r"((?:│   |    )*)[├└]── (\S+)", line).groups()
        parents[len(indent) // 4 :] = [name]
        paths.add("".join(parents))
        opened.update("".join(parents[:depth]) for depth in range(1, len(parents)))
    return paths - opened


def test_readme_tree_shows_the_default_bake(default_project):
    files = {
        path.relative_to(default_project).as_posix()
        for path in default_project.rglob("*")
        if path.is_file() and not {"__pycache__", ".pytest_cache", ".ruff_cache", ".venv"} & set(path.parts)
    }
    shown = {"tests/" if path.startswith("tests/") else path for path in files}
    assert readme_tree() == shown


def test_template_repository_passes_its_own_ruff():
    """The root configuration lints the hooks, tests and tools, and leaves the template folder alone."""
    for command in (["check", "."], ["format", "--check", "."]):
        lint = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
