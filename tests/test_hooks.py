"""The answers check and the post-generation hook, their logic called directly, and cookiecutter refusing answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import ROOT, TEMPLATE_DIR, load_module

answers_check = load_module("answers", ROOT / "hooks" / "answers.py")
post_gen = load_module("post_gen_project", ROOT / "hooks" / "post_gen_project.py")


@pytest.mark.parametrize("slug", ["my-api", "api", "orders-api-2", "v2"])
def test_slug_accepted(slug):
    assert answers_check.slug_problem(slug) is None


@pytest.mark.parametrize(
    ("slug", "suggestion"),
    [
        ("My-API", "my-api"),
        ("my_api", "my-api"),
        ("my--api", "my-api"),
        ("-api", "api"),
        ("api!", "api"),
        ("", "my-api"),
    ],
)
def test_slug_refused_with_a_suggestion(slug, suggestion):
    problem = answers_check.slug_problem(slug)
    assert problem.startswith(f"project_slug {slug!r}")
    assert repr(suggestion) in problem


@pytest.mark.parametrize("name", ["my_api", "orders", "api2"])
def test_package_name_accepted(name):
    assert answers_check.package_problem(name) is None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my-api", "not a Python identifier"),
        ("2api", "not a Python identifier"),
        ("café", "not a Python identifier"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("flask", "shadow"),
        ("flask_cors", "shadow"),
        ("test", "shadow"),
        ("json", "shadow"),
        ("logging", "shadow"),
        ("MyApi", "lowercase"),
    ],
)
def test_package_name_refused(name, reason):
    problem = answers_check.package_problem(name)
    assert problem.startswith(f"package_name {name!r}")
    assert reason in problem


@pytest.fixture(scope="module")
def origins():
    return answers_check.load_origins_module(ROOT)


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com",
        "https://app.example.com, https://admin.example.com:8443 https://*.preview.example.com",
        "https://faß.de https://*.city.kawasaki.jp",
    ],
)
def test_production_origins_accepted(origins, value):
    assert answers_check.origins_problems(value, origins) == []


# The rules themselves are the generated project's (tests/test_origins.py): the hook must only say what the app says.
@pytest.mark.parametrize(
    "value",
    [
        "",
        "*",
        "http://app.example.com",
        "https://*.github.io",
        "https://*.kawasaki.jp",
        "https://localhost:3000",
        "https://[::ffff:127.0.0.1]",
        "https://0x7f.0.0.1",
        "https://xn--zz.example",
    ],
)
def test_production_origins_refused_with_the_app_s_own_message(origins, value):
    with pytest.raises(origins.OriginError) as refused:
        origins.parse_allowlist(value, environment="production")
    assert answers_check.origins_problems(value, origins) == [f"production_origins: {refused.value}"]


@pytest.mark.parametrize(("value", "warned"), [("https://*.preview.example.com", True), ("https://faß.de", False)])
def test_without_publicsuffixlist_a_wildcard_is_left_to_the_app_and_said_so(monkeypatch, capsys, value, warned):
    """cookiecutter's Python may lack publicsuffixlist: only a wildcard needs it, and the check says which package."""
    monkeypatch.setitem(sys.modules, "publicsuffixlist", None)  # import publicsuffixlist: ModuleNotFoundError
    assert answers_check.refused_answers({**ANSWERS, "production_origins": value}) == ""
    message = "production_origins not checked here: it needs the publicsuffixlist package"
    assert (message in capsys.readouterr().err) == warned


def test_without_publicsuffixlist_the_other_answers_are_still_checked(monkeypatch):
    monkeypatch.setitem(sys.modules, "publicsuffixlist", None)
    answers = {**ANSWERS, "project_slug": "Bad Slug", "production_origins": "https://*.example.com"}
    with pytest.raises(click.ClickException) as refused:
        answers_check.refused_answers(answers)
    assert "project_slug 'Bad Slug'" in refused.value.message


ANSWERS = {
    "project_slug": "my-api",
    "package_name": "my_api",
    "production_origins": "https://app.example.com",
    "database": "postgresql",
    "auth": "none",
}


def test_every_refused_origin_of_the_answer_is_named(origins):
    value = "http://app.example.com, https://ok.example.com https://*.co.uk,https://localhost:3000"
    problems = answers_check.origins_problems(value, origins)
    assert len(problems) == 3
    refused = ["http://app.example.com", "https://*.co.uk", "https://localhost:3000"]
    for entry, problem in zip(refused, problems, strict=True):
        assert problem.startswith(f"production_origins: {entry!r}"), problem


def test_every_problem_is_reported_in_one_error():
    answers = {
        "project_slug": "Bad Slug",
        "package_name": "class",
        "production_origins": "http://a.example.com https://*.github.io",
        "database": "none",
        "auth": "session",
    }
    with pytest.raises(click.ClickException) as refused:
        answers_check.refused_answers(answers)
    first, *problems = refused.value.message.splitlines()
    assert first == "these answers would bake a broken project, so nothing was written:"
    named = ["project_slug", "package_name", "auth", "production_origins", "production_origins"]
    assert [line.split()[0].rstrip(":") for line in problems] == named


@pytest.mark.parametrize("auth", ["session", "token"])
def test_a_way_to_sign_in_needs_the_database(auth):
    assert answers_check.sign_in_problem(auth, "none") == (
        f"auth: {auth!r} keeps its accounts in the database: answer database=postgresql, or auth=none"
    )
    assert answers_check.sign_in_problem(auth, "postgresql") is None
    assert answers_check.sign_in_problem("none", "none") is None


def test_good_answers_render_as_nothing():
    assert answers_check.refused_answers(ANSWERS) == ""


def test_post_gen_writes_dotenv_with_the_project_s_tasks_once_and_keeps_the_developers_own(tmp_path):
    write_local_dotenv = post_gen.load_project_tasks(TEMPLATE_DIR).write_local_dotenv
    (tmp_path / ".env.example").write_text("APP_ENV=development\n")
    assert write_local_dotenv(tmp_path) is True
    assert (tmp_path / ".env").read_text().splitlines()[0] == "APP_ENV=development"
    (tmp_path / ".env").write_text("APP_ENV=development\nCORS_ORIGINS=http://localhost:3000\n")
    assert write_local_dotenv(tmp_path) is False
    assert "CORS_ORIGINS=http://localhost:3000" in (tmp_path / ".env").read_text()


def test_each_dotenv_written_gets_a_random_secret_key_of_its_own(tmp_path):
    write_local_dotenv = post_gen.load_project_tasks(TEMPLATE_DIR).write_local_dotenv
    keys = []
    for checkout in ("one", "two"):
        (tmp_path / checkout).mkdir()
        (tmp_path / checkout / ".env.example").write_text("APP_ENV=development\n")
        write_local_dotenv(tmp_path / checkout)
        lines = (tmp_path / checkout / ".env").read_text().splitlines()
        assert lines[0] == "APP_ENV=development"
        keys.append(lines[-1].removeprefix("SECRET_KEY="))
    assert len(keys[0]) >= 32
    assert keys[0] != keys[1]


PARALLEL = ["-n", "auto", "--maxprocesses", "4", "--dist", "worksteal"]


@pytest.mark.parametrize(
    ("arguments", "cores", "options"),
    [
        ([], 2, PARALLEL),
        (["-q", "-n", "0"], 2, PARALLEL),  # put first: the -n 0 after them wins
        ([], 1, []),
        (["-m", "browser"], 2, []),
        (["-mpostgres"], 2, []),
        (["-p", "no:xdist"], 2, []),
        (["-s"], 2, []),
        (["--capture=no"], 2, []),
    ],
)
def test_the_project_s_tests_run_in_parallel_unless_one_core_a_marker_or_s(monkeypatch, arguments, cores, options):
    tasks = post_gen.load_project_tasks(TEMPLATE_DIR)
    monkeypatch.setattr(tasks.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert tasks.parallel_options(arguments, {}) == options


@pytest.mark.parametrize(
    "environ",
    [
        {"PYTEST_ADDOPTS": "-q -p no:xdist"},
        {"PYTEST_ADDOPTS": "-m 'not slow'"},
        {"PYTEST_ADDOPTS": "-n 0"},
        {"PYTEST_ADDOPTS": "--numprocesses=3"},
        {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    ],
)
def test_the_project_s_tests_run_in_one_process_when_pytest_s_variables_say_so(monkeypatch, environ):
    tasks = post_gen.load_project_tasks(TEMPLATE_DIR)
    monkeypatch.setattr(tasks.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert tasks.parallel_options([], environ) == []


def test_next_steps_name_the_commands():
    steps = post_gen.next_steps("my-api")
    assert "cd my-api" in steps
    for command in ("serve", "playground", "test"):
        assert f"python3 tasks.py {command}" in steps


SESSION_FILES = [
    "src/app/auth/sessions.py",
    "src/app/migrations/versions/0003_user_sessions.py",
    "tests/test_sessions.py",
]
TOKEN_FILES = ["src/app/auth/tokens.py", "tests/test_tokens.py"]
ECHO_FILES = ["src/app/api/echo.py", "tests/test_echo.py"]
NO_SIGN_IN = [
    *(f"src/app/{name}" for name in ("auth", "api/auth.py", "migrations/versions/0002_users.py")),
    *("tests/test_auth.py", "docs/sign-in.md"),
    *SESSION_FILES,
    *TOKEN_FILES,
]


@pytest.mark.parametrize(
    ("answers", "left_out"),
    [
        (
            {"use_docker": True, "ci": "github", "use_pre_commit": True, "database": "postgresql", "auth": "none"},
            [*ECHO_FILES, *NO_SIGN_IN],
        ),
        (
            {"use_docker": True, "ci": "github", "use_pre_commit": True, "database": "postgresql", "auth": "session"},
            [*ECHO_FILES, *TOKEN_FILES],
        ),
        (
            {"use_docker": True, "ci": "github", "use_pre_commit": True, "database": "postgresql", "auth": "token"},
            [*ECHO_FILES, *SESSION_FILES],
        ),
        (
            {"use_docker": False, "ci": "none", "use_pre_commit": False, "database": "none", "auth": "none"},
            [
                *(f"src/app/{name}" for name in ("db.py", "models.py", "migrate.py", "migrations", "tenants.py")),
                "src/app/api/items.py",
                *("tests/test_items.py", "tests/test_database.py", "tests/test_migrations.py", "tests/test_tenants.py"),
                "tests/postgres.py",
                "docs/database.md",
                *NO_SIGN_IN,
                *("Dockerfile", ".dockerignore", "deploy", "docs/docker.md", ".github", ".pre-commit-config.yaml"),
            ],
        ),
    ],
)
def test_unselected_paths_follow_the_answers(answers, left_out):
    assert post_gen.unselected_paths(**answers, package="app") == left_out


@pytest.mark.parametrize(
    ("answers", "lock"),
    [
        ({"database": "postgresql", "auth": "none"}, "uv.lock"),
        ({"database": "none", "auth": "none"}, "uv-database-none.lock"),
        ({"database": "postgresql", "auth": "session"}, "uv-auth-session.lock"),
        ({"database": "postgresql", "auth": "token"}, "uv-auth-token.lock"),
    ],
)
def test_the_lock_of_the_chosen_dependencies_is_kept(tmp_path, answers, lock):
    for name in post_gen.LOCKS:
        (tmp_path / name).write_text(name)
    for _ in range(2):
        post_gen.keep_lock(tmp_path, answers)
        assert [path.name for path in tmp_path.iterdir()] == ["uv.lock"]
        assert (tmp_path / "uv.lock").read_text() == lock


def test_remove_paths_removes_files_and_folders_and_is_safe_to_run_twice(tmp_path):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "kubernetes.yaml").write_text("kind: Service\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "README.md").write_text("kept\n")
    for _ in range(2):
        post_gen.remove_paths(tmp_path, ["Dockerfile", ".dockerignore", "deploy"])
        assert [path.name for path in tmp_path.iterdir()] == ["README.md"]


def test_cookiecutter_refuses_bad_answers_naming_each_in_one_error_without_a_traceback(tmp_path):
    """As a user sees it: cookiecutter's own one error, every bad entry in it, and no folder."""
    origins = "http://app.example.com, https://*.co.uk"
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    command = [cookiecutter, "--no-input", "-o", tmp_path, ROOT, f"production_origins={origins}"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    first, *problems = result.stderr.splitlines()
    assert first == "Error: these answers would bake a broken project, so nothing was written:"
    assert [line.split("'")[1] for line in problems] == ["http://app.example.com", "https://*.co.uk"]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
