"""settings.py: the environment contract, one variable at a time, and .env.example kept in step with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from {{ cookiecutter.package_name }}.cors.policy import SETTING_DEFAULTS, Policy
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import (
    DEFAULTS,
    DEPLOYED,
    ENVIRONMENTS,
    SOURCE_DEFAULT,
    SOURCE_DOTENV,
    SOURCE_ENVIRONMENT,
    SOURCE_GENERATED,
    Settings,
    SettingsError,
    load_settings,
)

import conftest

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
PRODUCTION = {"APP_ENV": "production", "CORS_ORIGINS": "https://app.example.com", "SECRET_KEY": conftest.SECRET_KEY}


def refusal(environ: dict[str, str], dotenv: dict[str, str] | None = None) -> str:
    """The message of the SettingsError that `environ` (and `dotenv`) must raise."""
    with pytest.raises(SettingsError) as error:
        conftest.settings_from(environ, dotenv)
    return error.value.message


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_app_env_selects_one_of_four_environments(environment):
    assert conftest.settings_from({**PRODUCTION, "APP_ENV": environment}).environment == environment


def test_unset_app_env_means_production():
    unset = {name: value for name, value in PRODUCTION.items() if name != "APP_ENV"}
    assert conftest.settings_from(unset).environment == "production"


def test_unset_app_env_fails_closed_until_an_allowlist_is_given():
    message = refusal({})
    assert message.startswith("CORS_ORIGINS: ")
    assert "APP_ENV=production" in message


@pytest.mark.parametrize("value", ["prod", "Production", "dev", "test", "", "live"])
def test_an_unknown_app_env_is_refused_with_the_valid_values(value):
    """A near miss such as "prod" must not quietly pick a policy."""
    message = refusal({**PRODUCTION, "APP_ENV": value})
    assert f"APP_ENV={value!r}" in message
    assert all(environment in message for environment in ENVIRONMENTS)


@pytest.mark.parametrize(
    ("name", "value", "meant"),
    [
        ("APP_ENV", "prod", "production"),
        ("APP_ENV", "PROD", "production"),
        ("APP_ENV", "Production", "production"),
        ("APP_ENV", " production", "production"),
        ("APP_ENV", "dev", "development"),
        ("APP_ENV", "test", "testing"),
        ("APP_ENV", "stage", "staging"),
        ("APP_ENV", "prodution", "production"),
        ("LOG_FORMAT", "JSON", "json"),
        ("LOG_FORMAT", "txt", "text"),
    ],
)
def test_a_near_miss_of_a_choice_is_told_the_one_it_meant(name, value, meant):
    assert refusal({**PRODUCTION, name: value}).endswith(f": did you mean {meant}?")


@pytest.mark.parametrize("value", ["", "live", "qa"])
def test_a_choice_nothing_resembles_gets_no_guess(value):
    assert "did you mean" not in refusal({**PRODUCTION, "APP_ENV": value})


@pytest.mark.parametrize("environment", ["testing", "staging", "production"])
@pytest.mark.parametrize("origins", [None, "", " , "])
def test_cors_origins_is_required_outside_development_and_has_no_default(environment, origins):
    environ = {"APP_ENV": environment} if origins is None else {"APP_ENV": environment, "CORS_ORIGINS": origins}
    message = refusal(environ)
    assert message.startswith("CORS_ORIGINS: ")
    assert f"APP_ENV={environment}" in message


def test_development_without_cors_origins_allows_any_local_port():
    assert conftest.settings_from({"APP_ENV": "development"}).policy().allowlist.any_local


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        *((spelling, True) for spelling in ["true", "True", "TRUE", "1", "yes", "on", " true "]),
        *(
            pytest.param(spelling, False, marks=conftest.credentials_off)
            for spelling in ["false", "False", "0", "no", "off"]
        ),
    ],
)
def test_credentials_accept_the_usual_spellings(value, parsed):
    assert conftest.settings_from({**PRODUCTION, "CORS_ALLOW_CREDENTIALS": value}).policy().allow_credentials is parsed


@pytest.mark.parametrize("value", ["maybe", "2", "", "y", "truee", "enabled"])
def test_credentials_refuse_anything_else(value):
    message = refusal({**PRODUCTION, "CORS_ALLOW_CREDENTIALS": value})
    assert f"CORS_ALLOW_CREDENTIALS={value!r}" in message


def test_every_origin_together_with_credentials_is_refused():
    """Browsers reject `Access-Control-Allow-Origin: *` on a request with credentials."""
    message = refusal({"APP_ENV": "development", "CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"})
    assert "CORS_ORIGINS" in message
    assert "CORS_ALLOW_CREDENTIALS" in message


@conftest.credentials_off
def test_every_origin_without_credentials_is_accepted_in_development():
    settings = conftest.settings_from(
        {"APP_ENV": "development", "CORS_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "false"}
    )
    assert settings.policy().allowlist.any_origin


def test_defaults_are_the_documented_ones():
    settings = conftest.settings_from(PRODUCTION)
    assert settings.policy().allow_methods == ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
    assert settings.policy().allow_headers == ("Content-Type", "Authorization")
    assert settings.policy().expose_headers == ()
    assert settings.policy().max_age == 600
    assert settings.policy().allow_private_network is False
    assert (settings.port, settings.web_concurrency, settings.timeout) == (8000, 2, 30)


@pytest.mark.parametrize(
    ("name", "value", "attribute", "parsed"),
    [
        ("CORS_ALLOW_METHODS", "get post,DELETE", "allow_methods", ("GET", "POST", "DELETE")),
        ("CORS_ALLOW_METHODS", "get GET\tpost", "allow_methods", ("GET", "POST")),
        pytest.param("CORS_ALLOW_HEADERS", "", "allow_headers", (), marks=conftest.authorization_off),
        pytest.param(
            "CORS_ALLOW_HEADERS",
            "X-Requested-With, content-type",
            "allow_headers",
            ("X-Requested-With", "content-type"),
            marks=conftest.authorization_off,
        ),
        ("CORS_EXPOSE_HEADERS", "X-Total-Count,ETag", "expose_headers", ("X-Total-Count", "ETag")),
        ("CORS_MAX_AGE", "0", "max_age", 0),
        ("CORS_MAX_AGE", " 86400 ", "max_age", 86400),
        ("CORS_ALLOW_PRIVATE_NETWORK", "true", "allow_private_network", True),
        ("PORT", "65535", "port", 65535),
        ("WEB_CONCURRENCY", "64", "web_concurrency", 64),
        ("GUNICORN_TIMEOUT", "3600", "timeout", 3600),
    ],
)
def test_values_are_parsed_up_to_their_limits(name, value, attribute, parsed):
    settings = conftest.settings_from({**PRODUCTION, name: value})
    assert getattr(settings.policy() if name.startswith("CORS_") else settings, attribute) == parsed


@pytest.mark.parametrize(
    ("name", "value", "quoted"),
    [
        ("APP_ENV", "prod", "prod"),
        ("CORS_ORIGINS", "*", "*"),
        ("CORS_ORIGINS", "http://app.example.com", "http://app.example.com"),
        ("CORS_ALLOW_CREDENTIALS", "maybe", "maybe"),
        ("CORS_ALLOW_METHODS", "*", "*"),
        ("CORS_ALLOW_METHODS", "", ""),
        ("CORS_ALLOW_METHODS", " , ", " , "),
        ("CORS_ALLOW_METHODS", "get, trace", "TRACE"),
        ("CORS_ALLOW_METHODS", "CONNECT", "CONNECT"),
        ("CORS_ALLOW_HEADERS", "*", "*"),
        ("CORS_ALLOW_HEADERS", "Content-Type, *", "*"),
        ("CORS_ALLOW_HEADERS", "X_Debug", "X_Debug"),
        ("CORS_ALLOW_HEADERS", "Content-Type:", "Content-Type:"),
        ("CORS_EXPOSE_HEADERS", "*", "*"),
        ("CORS_MAX_AGE", "-1", "-1"),
        ("CORS_MAX_AGE", "86401", "86401"),
        ("CORS_MAX_AGE", "ten", "ten"),
        ("CORS_MAX_AGE", "1.5", "1.5"),
        ("CORS_MAX_AGE", "", ""),
        ("CORS_MAX_AGE", "\u0663", "\u0663"),
        ("CORS_ALLOW_PRIVATE_NETWORK", "sometimes", "sometimes"),
        ("PORT", "0", "0"),
        ("PORT", "65536", "65536"),
        ("PORT", "http", "http"),
        ("WEB_CONCURRENCY", "0", "0"),
        ("WEB_CONCURRENCY", "65", "65"),
        ("GUNICORN_TIMEOUT", "0", "0"),
        ("GUNICORN_TIMEOUT", "30s", "30s"),
    ],
)
def test_every_refusal_names_its_variable_and_quotes_the_value(name, value, quoted):
    message = refusal({**PRODUCTION, name: value})
    assert message.startswith(name)
    assert repr(quoted) in message


@pytest.mark.parametrize(
    ("misspelt", "meant"),
    [
        ("CORS_ORIGIN", "CORS_ORIGINS"),
        ("CORS_ALLOW_CREDENTIAL", "CORS_ALLOW_CREDENTIALS"),
        ("CORS_MAXAGE", "CORS_MAX_AGE"),
        ("CORS_EXPOSE_HEADER", "CORS_EXPOSE_HEADERS"),
        ("CORS_ALLOW_METHOD", "CORS_ALLOW_METHODS"),
        ("CORS_ALLOW_PRIVATE_NETWORKS", "CORS_ALLOW_PRIVATE_NETWORK"),
    ],
)
@pytest.mark.parametrize("in_dotenv", [False, True], ids=["environment", "dotenv"])
def test_a_misspelt_cors_variable_is_refused_with_a_suggestion(misspelt, meant, in_dotenv):
    """Ignored, it would leave the policy silently unchanged."""
    misspelling = {misspelt: "https://app.example.com"}
    message = refusal(PRODUCTION, misspelling) if in_dotenv else refusal({**PRODUCTION, **misspelling})
    assert message == f"{misspelt} is not a setting of this API: did you mean {meant}?"


@pytest.mark.parametrize(
    ("foreign", "meant"),
    [
        ("CORS_SUPPORTS_CREDENTIALS", "use CORS_ALLOW_CREDENTIALS"),
        ("CORS_ALLOWED_ORIGINS", "use CORS_ORIGINS"),
        ("CORS_ALLOW_ORIGINS", "use CORS_ORIGINS"),
        ("CORS_ALLOWED_HEADERS", "use CORS_ALLOW_HEADERS"),
        ("CORS_RESOURCES", "declare paths and policies in policies.py"),
        ("CORS_PUBLIC_METHODS", "use CORS_PUBLIC_ALLOW_METHODS"),
    ],
)
def test_another_librarys_setting_name_is_refused_naming_this_apis(foreign, meant):
    """Flask-CORS's and django-cors-headers' names would be ignored without a word."""
    message = refusal({**PRODUCTION, foreign: "true"})
    assert message == f"{foreign} is another CORS library's setting, ignored by this API: {meant}"


@pytest.mark.parametrize(
    "variable", ["CORS_PUBLIC_ORIGINS", "CORS_PUBLIC_ALLOW_CREDENTIALS", "CORS_PUBLIC_ALLOWED_ORIGINS"]
)
def test_a_public_policys_origins_and_credentials_are_not_settings(variable):
    """Declared public in code: every origin, never credentials; a variable cannot narrow or widen that."""
    message = refusal({**PRODUCTION, variable: "true"})
    assert message.startswith(f"{variable}: the policy 'public' is public (policies.py): every origin may read")
    assert message.endswith(f"Remove {variable}, or declare a policy that is not public to list origins")


# Kubernetes sets CORS_<NAME>_* in every pod for a Service named cors-<name>; other programs have CORS_ names too.
OTHER_CORS_VARIABLES = {
    "CORS_PROXY_SERVICE_HOST": "10.0.0.11",
    "CORS_PROXY_SERVICE_PORT": "80",
    "CORS_PROXY_SERVICE_PORT_HTTP": "80",
    "CORS_PROXY_PORT": "tcp://10.0.0.11:80",
    "CORS_PROXY_PORT_80_TCP_ADDR": "10.0.0.11",
    "CORS_PORT": "tcp://10.0.0.12:8000",
    "CORS_ORIGINS_PORT": "tcp://10.0.0.13:80",
    "CORS_ALLOW_CREDENTIALS_SERVICE_PORT": "80",
    "CORS_ANYWHERE_URL": "https://proxy.example.net",
    "CORS_ALLOW_ALL": "true",
}


@pytest.mark.parametrize("in_dotenv", [False, True], ids=["environment", "dotenv"])
def test_cors_variables_that_resemble_no_setting_are_ignored(in_dotenv):
    """Refused, a Service named cors-<something> would stop every pod of its namespace."""
    if in_dotenv:
        settings = conftest.settings_from(PRODUCTION, OTHER_CORS_VARIABLES)
    else:
        settings = conftest.settings_from({**PRODUCTION, **OTHER_CORS_VARIABLES})
    assert settings == conftest.settings_from(PRODUCTION)


def test_an_empty_list_of_methods_is_refused_with_the_default():
    message = refusal({**PRODUCTION, "CORS_ALLOW_METHODS": " "})
    assert message.startswith("CORS_ALLOW_METHODS=' ' lists no method")
    assert message.endswith(f"the default {SETTING_DEFAULTS['ALLOW_METHODS']}")


@pytest.mark.parametrize(
    ("origins", "quoted", "hint"),
    [
        ("https://*.github.io", "https://*.github.io", "anyone can register a name under github.io"),
        ("https://*.co.uk", "https://*.co.uk", "a wildcard under a name you own"),
        ("https://a.example.com;https://b.example.com", "https://a.example.com;https://b.example.com", "commas"),
        ('"https://app.example.com"', '"https://app.example.com"', "remove the quotes"),
        ("http://localhost:3000", "http://localhost:3000", "APP_ENV=development"),
    ],
)
def test_cors_origins_refusals_name_the_variable_and_quote_the_entry(origins, quoted, hint):
    message = refusal({**PRODUCTION, "CORS_ORIGINS": origins})
    assert message.startswith(f"CORS_ORIGINS: {quoted!r}")
    assert hint in message


def test_variables_of_other_programs_change_nothing():
    """FLASK_CORS_* included: Flask-CORS reads it through app.config, which this project never gives it."""
    others = {"PGHOST": "db", "FLASK_CORS_ORIGINS": "*", "FLASK_CORS_SUPPORTS_CREDENTIALS": "true"}
    assert conftest.settings_from({**PRODUCTION, **others}) == conftest.settings_from(PRODUCTION)


def test_the_environment_wins_over_dotenv_which_wins_over_the_default():
    settings = conftest.settings_from(
        {"APP_ENV": "testing", "CORS_ORIGINS": "http://localhost:3000"},
        {"APP_ENV": "development", "CORS_MAX_AGE": "60", "PORT": None},
    )
    assert settings.environment == "testing"
    assert settings.policy().max_age == 60
    assert settings.port == 8000
    assert settings.sources["APP_ENV"] == SOURCE_ENVIRONMENT
    assert settings.sources["CORS_MAX_AGE"] == SOURCE_DOTENV
    assert settings.sources["PORT"] == SOURCE_DEFAULT


def test_load_settings_reads_the_process_environment_and_a_dotenv_file(clean_environ, tmp_path):
    dotenv = tmp_path / "local.env"
    dotenv.write_text("APP_ENV=development\nCORS_MAX_AGE=60\n")
    clean_environ.setenv("CORS_MAX_AGE", "120")
    settings = load_settings(str(dotenv))
    assert (settings.environment, settings.policy().max_age) == ("development", 120)
    assert settings.sources["APP_ENV"] == SOURCE_DOTENV


@pytest.mark.parametrize("environment", DEPLOYED)
def test_where_the_environment_says_it_is_deployed_the_dotenv_file_is_not_read(clean_environ, tmp_path, environment):
    """A `flask` command run for a deployment from a checkout: the .env there holds development values."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("CORS_ORIGINS=http://localhost:3000\nCORS_MAX_AGE=60\n")
    clean_environ.setenv("APP_ENV", environment)
    clean_environ.setenv("CORS_ORIGINS", "https://app.example.com")
    clean_environ.setenv("SECRET_KEY", conftest.SECRET_KEY)
    settings = load_settings(str(dotenv))
    assert settings.policy().allowlist.exact == {"https://app.example.com"}
    assert settings.sources["CORS_MAX_AGE"] == SOURCE_DEFAULT


def test_load_settings_without_a_dotenv_file_reads_the_environment_only(clean_environ, tmp_path):
    (tmp_path / ".env").write_text("APP_ENV=development\n")
    clean_environ.setenv("CORS_ORIGINS", "https://app.example.com")
    clean_environ.setenv("SECRET_KEY", conftest.SECRET_KEY)
    assert load_settings(dotenv_path=None).environment == "production"


def documented_names() -> set[str]:
    """Every NAME in a `NAME=value` line of .env.example, commented out or not."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))


def test_env_example_documents_every_variable_and_nothing_else():
    default_policy = conftest.settings_from({"APP_ENV": "development"}).policy().declaration
    assert documented_names() == set(DEFAULTS) | set(default_policy.variables())


def test_another_policy_s_credentials_default_to_false_as_env_example_says():
    """Whatever CORS_ALLOW_CREDENTIALS is: a policy the team adds allows credentials only when told so."""
    partners = Policy("sample_partners", "/api/sample-partners/")
    variables = {**PRODUCTION, "CORS_ALLOW_CREDENTIALS": "true", "CORS_SAMPLE_PARTNERS_ORIGINS": "https://p.example"}
    settings = conftest.settings_from(variables, declarations=(*POLICIES, partners))
    assert (settings.policy().allow_credentials, settings.policy("sample_partners").allow_credentials) == (True, False)
    assert "its ALLOW_CREDENTIALS defaults to false" in " ".join(ENV_EXAMPLE.read_text().replace("#", "").split())


def test_env_example_as_a_dotenv_starts_in_development():
    """The project's .env is written from .env.example: it must start the app as it is."""
    settings = conftest.settings_from({}, dotenv_values(ENV_EXAMPLE))
    assert settings.environment == "development"
    assert settings.policy().allowlist.any_local


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_secret_key_is_required_where_deployed_with_credentials(environment):
    without = {name: value for name, value in PRODUCTION.items() if name != "SECRET_KEY"}
    message = refusal({**without, "APP_ENV": environment, "CORS_ALLOW_CREDENTIALS": "true"})
    assert message.startswith(f"SECRET_KEY is required when APP_ENV={environment} and CORS_ALLOW_CREDENTIALS=true")


@pytest.mark.skipif(conftest.SIGN_IN != "none", reason="signing in needs a SECRET_KEY or credentials where deployed")
def test_without_credentials_a_missing_secret_key_stays_missing_where_deployed():
    without = {name: value for name, value in PRODUCTION.items() if name != "SECRET_KEY"}
    assert conftest.settings_from({**without, "CORS_ALLOW_CREDENTIALS": "false"}).secret_key is None


def test_secret_key_is_not_required_by_what_serves_no_request():
    """The `flask cors` commands (serving=False) read the policies alone; a SECRET_KEY given is still checked."""
    without = {name: value for name, value in PRODUCTION.items() if name != "SECRET_KEY"}
    variables = {**conftest.other_allowlists(), **without, "CORS_ALLOW_CREDENTIALS": "true"}
    assert Settings.from_environ(variables, serving=False).secret_key is None
    with pytest.raises(SettingsError, match="SECRET_KEY is 5 characters long"):
        Settings.from_environ({**variables, "SECRET_KEY": "short"}, serving=False)


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_secret_key_is_made_up_per_process_in_development_and_testing(environment):
    environ = {"APP_ENV": environment, "CORS_ORIGINS": "http://localhost:3000", "CORS_ALLOW_CREDENTIALS": "true"}
    first, second = conftest.settings_from(environ), conftest.settings_from(environ)
    assert len(first.secret_key) >= 32
    assert first.secret_key != second.secret_key
    assert first.sources["SECRET_KEY"] == SOURCE_GENERATED


def test_a_short_secret_key_is_refused_without_showing_it():
    message = refusal({**PRODUCTION, "SECRET_KEY": "changeme"})
    assert message.startswith("SECRET_KEY is 8 characters long")
    assert "changeme" not in message


def test_the_secret_key_never_appears_in_the_settings_repr():
    assert conftest.SECRET_KEY not in repr(conftest.settings_from(PRODUCTION))


@pytest.mark.parametrize("value", ["Lax", "Strict", "None"])
def test_session_cookie_samesite_takes_the_three_values_where_deployed(value):
    settings = conftest.settings_from({**PRODUCTION, "SESSION_COOKIE_SAMESITE": value})
    assert (settings.session_cookie_samesite, settings.secure_cookies) == (value, True)


@pytest.mark.parametrize(("value", "meant"), [("lax", "Lax"), ("none", "None"), ("strict", "Strict")])
def test_session_cookie_samesite_near_misses_are_told_the_value_meant(value, meant):
    assert refusal({**PRODUCTION, "SESSION_COOKIE_SAMESITE": value}).endswith(f"did you mean {meant}?")


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_samesite_none_is_refused_where_cookies_are_not_secure(environment):
    environ = {"APP_ENV": environment, "CORS_ORIGINS": "http://localhost:3000", "SESSION_COOKIE_SAMESITE": "None"}
    assert refusal(environ).startswith("SESSION_COOKIE_SAMESITE='None' needs Secure cookies")


def test_no_path_accepts_cross_site_writes_by_default():
    assert conftest.settings_from(PRODUCTION).write_exempt_paths == ()


def test_exempt_paths_are_listed_prefixes():
    settings = conftest.settings_from({**PRODUCTION, "CROSS_SITE_WRITE_EXEMPT_PATHS": "/auth/callback, /hooks/"})
    assert settings.write_exempt_paths == ("/auth/callback", "/hooks/")


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("auth/callback", "starting with '/'"),
        ("/auth/*", "without a query or wildcard"),
        ("/", "turns the protection off"),
        ("//", "turns the protection off"),
        ("/ ///", "turns the protection off"),
    ],
)
def test_exempt_paths_refuse_what_is_not_a_path_or_exempts_everything(value, hint):
    message = refusal({**PRODUCTION, "CROSS_SITE_WRITE_EXEMPT_PATHS": value})
    assert message.startswith("CROSS_SITE_WRITE_EXEMPT_PATHS: ")
    assert hint in message
{%- if cookiecutter.database == "postgresql" %}


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"APP_ENV": "production", "DATABASE_URL": ""}, "DATABASE_URL is required when APP_ENV=production"),
        ({"APP_ENV": "staging", "DATABASE_URL": ""}, "DATABASE_URL is required when APP_ENV=staging"),
        ({"APP_ENV": "production", "DATABASE_URL": "sqlite:///api.sqlite3"}, "for development and testing only"),
        ({"APP_ENV": "production", "DATABASE_URL": "postgres://api:s3cret@db/api"}, "psycopg 3, write postgresql+"),
        ({"APP_ENV": "testing", "DATABASE_URL": "db.internal:5432"}, "DATABASE_URL is not a database URL"),
        ({"APP_ENV": "testing", "DATABASE_URL": "mysql://api:s3cret@db/api"}, "'mysql' is not supported"),
    ],
    ids=["production-unset", "staging-unset", "sqlite-deployed", "other-driver", "not-a-url", "other-database"],
)
def test_a_database_url_refusal_names_the_variable_and_the_fix_never_the_password(variables, expected):
    message = refusal({**PRODUCTION, **variables})
    assert expected in message
    assert "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME" in message
    assert "s3cret" not in message


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_development_and_testing_default_to_a_sqlite_file(environment):
    variables = {"APP_ENV": environment, "CORS_ORIGINS": "http://localhost:3000", "DATABASE_URL": ""}
    assert conftest.settings_from(variables).database.url == f"sqlite:///{environment}.sqlite3"


def test_the_pool_is_configured_from_the_environment():
    variables = {"DATABASE_POOL_SIZE": "20", "DATABASE_MAX_OVERFLOW": "0", "DATABASE_POOL_TIMEOUT": "3"}
    database = conftest.settings_from({**PRODUCTION, **variables}).database
    assert (database.pool_size, database.max_overflow, database.pool_timeout) == (20, 0, 3)
    assert "DATABASE_POOL_SIZE='0' must be a whole number from 1" in refusal({**PRODUCTION, "DATABASE_POOL_SIZE": "0"})
{%- endif %}
