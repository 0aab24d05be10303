"""What browsers do otherwise than the policy says: cookies kept from front ends on another site, and the
preflight cache Chromium caps. Each is one WARNING at start-up and a line in `flask cors check` and `probe`."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from {{ cookiecutter.package_name }}.cors.caveats import CHROMIUM_MAX_AGE, site, startup_caveats, third_party_caveats
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest

API = "https://api.example.com"
SAME_SITE = "https://app.example.com"
OTHER_SITE = "https://shop.example.org"
CREDENTIALED = {
    **conftest.CREDENTIALED_PRODUCTION,
    "CORS_ORIGINS": f"{SAME_SITE}, {OTHER_SITE}, https://*.preview.example.com",
    "API_ORIGIN": API,
}


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://app.example.com", "https://example.com"),
        ("https://example.com", "https://example.com"),
        ("http://app.example.com", "http://example.com"),
        ("https://app.shop.co.uk:8443", "https://shop.co.uk"),
        ("https://*.preview.example.com", "https://example.com"),
        # The list's private section: each user of a hosting platform is a site of its own.
        ("https://team-a.github.io", "https://team-a.github.io"),
        ("https://x.s3.us-east-1.amazonaws.com", "https://x.s3.us-east-1.amazonaws.com"),
        # A wildcard rule (*.kawasaki.jp) and its exception (!city.kawasaki.jp).
        ("https://a.b.kawasaki.jp", "https://a.b.kawasaki.jp"),
        ("https://www.city.kawasaki.jp", "https://city.kawasaki.jp"),
        ("http://127.0.0.1:5000", "http://127.0.0.1"),
        ("http://[::1]:5000", "http://[::1]"),
        ("http://localhost:5173", "http://localhost"),
    ],
)
def test_a_site_is_the_scheme_and_registrable_domain(origin, expected):
    assert site(origin) == expected


def warnings(caplog, make_app, **variables) -> list[str]:
    with caplog.at_level(logging.WARNING, logger="{{ cookiecutter.package_name }}.cors.caveats"):
        make_app(**variables)
    return [record.getMessage() for record in caplog.records if record.name.endswith("cors.caveats")]


def test_a_credentialed_front_end_on_another_site_is_one_warning_at_start_up(caplog, make_app):
    (warning,) = warnings(caplog, make_app, **conftest.deployment(CREDENTIALED))
    assert warning.startswith(f"CORS_ORIGINS: {OTHER_SITE} is on another site than the API at {API}: ")
    assert "Safari does not send them" in warning
    assert "SESSION_COOKIE_SAMESITE=Lax, no browser sends the session cookie" in warning
    assert SAME_SITE not in warning and "preview" not in warning
    assert "log in with a token" in warning


@pytest.mark.parametrize(
    "variables",
    [{"CORS_ORIGINS": SAME_SITE}, {"API_ORIGIN": "https://api.example.org"} | {"CORS_ORIGINS": OTHER_SITE}],
    ids=["same site only", "the API on the front end's site"],
)
def test_no_warning_where_the_cookies_reach_the_api(caplog, make_app, variables):
    assert warnings(caplog, make_app, **conftest.deployment({**CREDENTIALED, **variables})) == []


def test_samesite_none_leaves_the_third_party_rule_alone(caplog, make_app):
    (warning,) = warnings(caplog, make_app, **conftest.deployment({**CREDENTIALED, "SESSION_COOKIE_SAMESITE": "None"}))
    assert "Safari does not send them" in warning and "SESSION_COOKIE_SAMESITE" not in warning


def test_a_deployment_with_credentials_and_no_api_origin_is_asked_for_it(caplog, make_app):
    variables = {name: value for name, value in CREDENTIALED.items() if name != "API_ORIGIN"}
    (warning,) = warnings(caplog, make_app, **conftest.deployment(variables))
    assert warning.startswith("API_ORIGIN: unset while credentials are on: set it to the origin browsers reach")


def test_development_without_api_origin_says_nothing(caplog, make_app):
    assert warnings(caplog, make_app, APP_ENV="development", CORS_ALLOW_CREDENTIALS="true") == []


@pytest.mark.parametrize("max_age", [str(CHROMIUM_MAX_AGE + 1), "86400"])
def test_a_max_age_above_chromiums_cap_is_one_warning(caplog, make_app, max_age):
    (warning,) = warnings(caplog, make_app, APP_ENV="testing", CORS_ORIGINS=SAME_SITE, CORS_MAX_AGE=max_age)
    assert warning.startswith(f"CORS_MAX_AGE: {max_age} seconds is above Chromium's cap of 7200")
    assert warning.endswith("Set CORS_MAX_AGE=7200 to say what browsers do")


def test_a_max_age_at_the_cap_is_fine(caplog, make_app):
    assert warnings(caplog, make_app, APP_ENV="testing", CORS_ORIGINS=SAME_SITE, CORS_MAX_AGE="7200") == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("api.example.com", "API_ORIGIN: 'api.example.com' has no scheme"),
        ("http://api.example.com", "API_ORIGIN: 'http://api.example.com': APP_ENV=production"),
        ("https://*.example.com", "API_ORIGIN=https://*.example.com: the API's own origin, one host"),
    ],
)
def test_a_wrong_api_origin_stops_start_up_naming_it(value, message):
    with pytest.raises(SettingsError) as error:
        conftest.settings_from(conftest.deployment({**CREDENTIALED, "API_ORIGIN": value}))
    assert str(error.value.message).startswith(message)


def check(make_app, *args: str):
    app = make_app(**conftest.deployment(CREDENTIALED))
    return app.test_cli_runner().invoke(args=["cors", "check", *args])


def test_check_says_which_browsers_keep_the_cookie_from_another_site(make_app):
    result = check(make_app, OTHER_SITE, "--credentials")
    assert result.exit_code == 0, result.output
    assert f"Caveat (CORS_ORIGINS): {OTHER_SITE} is on another site than the API at {API}: " in result.output


def test_check_from_the_apis_own_site_has_no_caveat(make_app):
    result = check(make_app, SAME_SITE, "--credentials")
    assert result.exit_code == 0, result.output
    assert "Caveat" not in result.output


def test_check_of_a_preflight_names_the_capped_max_age(make_app):
    app = make_app(APP_ENV="testing", CORS_ORIGINS=SAME_SITE, CORS_MAX_AGE="86400")
    result = app.test_cli_runner().invoke(args=["cors", "check", SAME_SITE, "--method", "PUT"])
    assert result.exit_code == 0, result.output
    assert "Caveat (CORS_MAX_AGE): 86400 seconds is above Chromium's cap" in result.output


def test_a_policy_without_credentials_sends_no_cookie_to_lose():
    settings = conftest.settings_from(conftest.deployment(CREDENTIALED))
    without = dataclasses.replace(settings.policy(), allow_credentials=False)
    assert third_party_caveats([without], API, "Lax") == []


def test_startup_caveats_are_pure():
    settings = conftest.settings_from(conftest.deployment(CREDENTIALED))
    caveats = startup_caveats(settings.policies, API, "None", deployed=True)
    assert [caveat.variable for caveat in caveats] == ["CORS_ORIGINS"]
