"""origins.py as pure functions: what an allowlist entry becomes, what is refused, and what matches."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.cors.origins import (
    LOCAL_HOSTS,
    Allowlist,
    OriginError,
    normalise_origin,
    parse_allowlist,
)


@pytest.mark.parametrize(
    ("entry", "environment", "browser_form"),
    [
        ("HTTPS://App.Example.COM", "production", "https://app.example.com"),
        ("https://app.example.com/", "production", "https://app.example.com"),
        ("https://app.example.com.", "production", "https://app.example.com"),
        ("https://app.example.com:443", "production", "https://app.example.com"),
        ("https://app.example.com:8443/", "production", "https://app.example.com:8443"),
        ("https://bücher.example", "production", "https://xn--bcher-kva.example"),
        ("https://BÜCHER.example", "production", "https://xn--bcher-kva.example"),
        ("https://*.Preview.Example.com:443/", "production", "https://*.preview.example.com"),
        ("https://203.0.113.7:8443", "production", "https://203.0.113.7:8443"),
        ("https://[2001:DB8:0:0::1]", "production", "https://[2001:db8::1]"),
        ("http://front.test:80", "testing", "http://front.test"),
        ("http://[0:0:0:0:0:0:0:1]:3000", "development", "http://[::1]:3000"),
        # International names as browsers convert them (UTS #46, non-transitional), not as IDNA 2003 did.
        ("https://faß.de", "production", "https://xn--fa-hia.de"),
        ("https://*.faß.de", "production", "https://*.xn--fa-hia.de"),
        ("https://XN--FA-HIA.de", "production", "https://xn--fa-hia.de"),
        ("https://\uff45xample.com", "production", "https://example.com"),  # a fullwidth e
        # IPv4 hosts as the URL parser rewrites them, IPv6 ones in their shortest form, never dotted.
        ("https://0xcb.0.113.7", "production", "https://203.0.113.7"),
        ("https://0313.0.0161.7", "production", "https://203.0.113.7"),
        ("https://203.0.28935", "production", "https://203.0.113.7"),
        ("https://3405803783", "production", "https://203.0.113.7"),
        ("https://[1:0:0:2:0:0:0:3]", "production", "https://[1:0:0:2::3]"),
        ("https://[::ffff:203.0.113.7]", "production", "https://[::ffff:cb00:7107]"),
        ("http://0x7f.1:3000", "development", "http://127.0.0.1:3000"),
        ("http://[::ffff:127.0.0.1]:3000", "testing", "http://[::ffff:7f00:1]:3000"),
    ],
)
def test_entries_are_normalised_to_the_form_browsers_send(entry, environment, browser_form):
    """Browsers send origins lowercase, punycoded, without default port, trailing slash or dot."""
    assert normalise_origin(entry, environment=environment) == browser_form


BAD_PORTS = [":", ":0", ":65536", ":99999999999999999999", ":-1", ":https", ":\u0663"]
BROAD_WILDCARDS = [
    "https://*",
    "https://*.com",
    "https://app.*.com",
    "https://**.example.com",
    "https://*.*.example.com",
    "https://*app.example.com",
    "https://*.example.*",
    "https://*.10.0.0",
]
# Anyone can get a name directly under these: a wildcard there would allow strangers' sites.
SUFFIX_WILDCARDS = [
    "https://*.co.uk",
    "https://*.com.au",
    "https://*.github.io",
    "https://*.herokuapp.com",
    "https://*.vercel.app",
    "https://*.s3.amazonaws.com",
    "https://*.GitHub.io.",
    "https://*.ngrok-free.app:443",
    # From the Public Suffix List itself: regions' shared hosting, the private section, punycode.
    "https://*.s3.us-east-1.amazonaws.com",
    "https://*.duckdns.org",
    "https://*.csb.app",
    "https://*.xn--55qx5d.cn",
]
LOCAL_ORIGINS = [
    "https://localhost:3000",
    "https://dev.localhost",
    "https://127.0.0.1",
    "https://127.0.0.2",
    "https://[::1]:8443",
    "http://localhost:3000",
    "http://127.0.0.1:5173",
    "http://[::1]",
    # The same machine, however spelt: IPv4-mapped IPv6, unspecified addresses, the URL parser's IPv4 forms.
    "https://[::ffff:127.0.0.1]",
    "https://[::ffff:7f00:1]",
    "https://0.0.0.0",
    "https://0.1.2.3",
    "https://[::]",
    "https://0x7f.0.0.1",
    "https://0177.0.0.1",
    "https://127.1",
    "https://2130706433",
    "https://localhost.",
    "https://LOCALHOST",
]


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("*", "exact origins"),
        ("null", "remove it"),
        ("app.example.com", "write https://app.example.com"),
        ("//app.example.com", "no scheme"),
        ("ftp://app.example.com", "an origin starts with https://"),
        ("wss://app.example.com", "https://"),
        ("file:///srv/app", "https://"),
        ("http://app.example.com", "write https://app.example.com"),
        ("https://app.example.com/app", "write https://app.example.com"),
        ("http://app.example.com/app", "write https://app.example.com"),
        ("https://app.example.com//", "write https://app.example.com"),
        ("https://app.example.com?next=/", "write https://app.example.com"),
        ("https://app.example.com#top", "write https://app.example.com"),
        ("https://admin@app.example.com", "user name or password"),
        ("https://admin:secret@app.example.com", "user name or password"),
        *((f"https://app.example.com{port}", "1 to 65535") for port in BAD_PORTS),
        *((wildcard, "leftmost label") for wildcard in BROAD_WILDCARDS),
        *((wildcard, "anyone can register a name under") for wildcard in SUFFIX_WILDCARDS),
        ("https://a.example.com;https://b.example.com", "separate origins with commas or spaces"),
        ("https://a.example.comhttps://b.example.com", "separate origins with commas or spaces"),
        ('"https://app.example.com"', "remove the quotes"),
        ("'https://app.example.com'", "remove the quotes"),
        ("https://app_1.example.com", "not a valid host name"),
        ("https://-app.example.com", "not a valid host name"),
        ("https://app..example.com", "not a valid host name"),
        ("https://", "not a valid host name"),
        ("https://[::g]", "not an IPv6 address"),
        ("https://300.1.1.1", "not an IPv4 address"),
        ("https://1.2.3.4.5", "not an IPv4 address"),
        ("https://08.1.1.1", "not an IPv4 address"),
        ("https://0xg.1.1.1", "not an IPv4 address"),
        ("https://[fe80::1%25eth0]", "not an IPv6 address"),
        ("https://xn--zz.example", "not a host name browsers accept"),
        ("https://☃‍.example", "not a host name browsers accept"),
        ("https://*.kawasaki.jp", "every name under kawasaki.jp is itself a public suffix"),
        *((local, "APP_ENV=development") for local in LOCAL_ORIGINS),
    ],
)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_production_refuses_unsafe_entries_quoting_them_with_a_fix(entry, hint, environment):
    with pytest.raises(OriginError) as refusal:
        parse_allowlist(entry, environment=environment)
    assert repr(entry) in str(refusal.value)
    assert hint in str(refusal.value)


@pytest.mark.parametrize("environment", ["development", "testing"])
@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        ("null", "remove it"),
        ("https://app.example.com/app", "write https://app.example.com"),
        ("https://admin@app.example.com", "user name or password"),
        ("https://app_1.example.com", "not a valid host name"),
        ("https://*.com", "leftmost label"),
        ("http://a.example.com;http://b.example.com", "separate origins with commas or spaces"),
        ('"http://localhost:3000"', "remove the quotes"),
    ],
)
def test_shapes_that_are_never_origins_are_refused_in_every_environment(entry, hint, environment):
    with pytest.raises(OriginError) as refusal:
        parse_allowlist(entry, environment=environment)
    assert repr(entry) in str(refusal.value)
    assert hint in str(refusal.value)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ('"https://a.example.com https://b.example.com"', '"https://a.example.com'),
        ("'https://a.example.com, https://b.example.com'", "'https://a.example.com"),
    ],
)
def test_a_quoted_list_is_told_to_lose_its_quotes(value, quoted):
    """Docker's --env-file, for one, keeps quotes as part of the value."""
    with pytest.raises(OriginError, match="remove the quotes") as refusal:
        parse_allowlist(value, environment="production")
    assert repr(quoted) in str(refusal.value)


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("entry", ["http://localhost:3000", "http://127.0.0.1", "http://[::1]:8080"])
def test_a_local_http_origin_is_refused_as_local_rather_than_told_to_use_https(entry, environment):
    """https://localhost would be refused too: the fix is APP_ENV=development, not the scheme."""
    with pytest.raises(OriginError, match="local development origin") as refusal:
        normalise_origin(entry, environment=environment)
    assert "write https" not in str(refusal.value)


@pytest.mark.parametrize(
    ("environment", "schemes"),
    [
        ("development", "https:// or http://"),
        ("testing", "https:// or http://"),
        ("staging", "https://"),
        ("production", "https://"),
    ],
)
def test_a_wrong_scheme_is_told_the_schemes_its_environment_accepts(environment, schemes):
    with pytest.raises(OriginError) as refusal:
        normalise_origin("ftp://app.example.com", environment=environment)
    assert str(refusal.value) == f"'ftp://app.example.com': an origin starts with {schemes}"


def test_an_http_origin_is_told_its_https_form():
    with pytest.raises(OriginError, match=r"accepts https origins only: write https://app\.example\.com:8080\Z"):
        normalise_origin("HTTP://App.Example.com:8080/", environment="production")


@pytest.mark.parametrize(
    "wildcard", ["https://*.example.co.uk", "https://*.preview.example.com", "https://*.my-team.github.io"]
)
def test_a_wildcard_under_a_registered_name_is_accepted(wildcard):
    """Under a public suffix, one level down is a name somebody registered: yours, if you list it."""
    assert normalise_origin(wildcard, environment="production") == wildcard


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_a_wildcard_under_a_public_suffix_is_left_to_local_environments(environment):
    """Tunnels such as ngrok give a developer's front end a new name under a shared domain each run."""
    wildcard = "https://*.ngrok-free.app"
    assert parse_allowlist(wildcard, environment=environment).wildcards == (wildcard,)


@pytest.mark.parametrize(
    "wildcard",
    [
        # The Public Suffix List's exception to *.kawasaki.jp: city.kawasaki.jp is a registered name.
        "https://*.city.kawasaki.jp",
        # A single-label rule's neighbours are registered names too.
        "https://*.example.amazonaws.com",
        "https://*.xn--fa-hia.de",
    ],
)
def test_the_public_suffix_list_accepts_wildcards_under_registered_names(wildcard):
    assert normalise_origin(wildcard, environment="production") == wildcard


@pytest.mark.parametrize("entry", ["http://localhost:3000", "https://127.0.0.1:8443", "http://front.test:8080"])
@pytest.mark.parametrize("environment", ["development", "testing"])
def test_http_and_local_origins_are_accepted_outside_staging_and_production(entry, environment):
    assert parse_allowlist(entry, environment=environment).allows(entry)


def test_star_means_every_origin_in_development_only_and_alone():
    assert parse_allowlist("*", environment="development") == Allowlist(any_origin=True)
    with pytest.raises(OriginError, match="alone"):
        parse_allowlist("* http://localhost:3000", environment="development")
    with pytest.raises(OriginError, match="every site"):
        parse_allowlist("*", environment="testing")


@pytest.mark.parametrize("environment", ["testing", "staging", "production"])
@pytest.mark.parametrize("value", [None, "", "  ", " , ,"])
def test_an_allowlist_is_required_outside_development(value, environment):
    with pytest.raises(OriginError, match=f"required when APP_ENV={environment}"):
        parse_allowlist(value, environment=environment)


def test_entries_are_separated_by_commas_and_or_whitespace_and_deduplicated():
    allowlist = parse_allowlist(
        "https://a.example.com,https://b.example.com  https://c.example.com,\n https://A.example.com/",
        environment="production",
    )
    assert allowlist.exact == {"https://a.example.com", "https://b.example.com", "https://c.example.com"}


PREVIEW = parse_allowlist("https://*.preview.example.com", environment="production")


@pytest.mark.parametrize(
    "origin",
    [
        "https://pr-1.preview.example.com",
        "https://x.preview.example.com",
        "https://xn--bcher-kva.preview.example.com",
        f"https://{'a' * 63}.preview.example.com",
    ],
)
def test_a_wildcard_matches_one_whole_label(origin):
    assert PREVIEW.allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://preview.example.com",
        "https://a.b.preview.example.com",
        "https://.preview.example.com",
        "https://-pr.preview.example.com",
        "https://pr_1.preview.example.com",
        f"https://{'a' * 64}.preview.example.com",
        "http://pr-1.preview.example.com",
        "https://pr-1.preview.example.com:8443",
        "https://pr-1-preview.example.com",
        "https://pr-1.preview-example.com",
        "https://pr-1.preview.example.com.evil.com",
        "https://pr-1.preview.example.com\n",
        "https://evil.com/.preview.example.com",
    ],
)
def test_a_wildcard_matches_nothing_else(origin):
    assert not PREVIEW.allows(origin)


def test_a_wildcard_keeps_its_port():
    allowlist = parse_allowlist("https://*.preview.example.com:8443", environment="production")
    assert allowlist.allows("https://pr-1.preview.example.com:8443")
    assert not allowlist.allows("https://pr-1.preview.example.com")


LARGE = [f"https://app{number}.example.com" for number in range(1000)]
LARGE_ALLOWLIST = parse_allowlist(" ".join(LARGE), environment="production")


@pytest.mark.parametrize("origin", [LARGE[0], LARGE[1], LARGE[10], LARGE[499], LARGE[-1]])
def test_a_thousand_origins_match_each_one(origin):
    assert LARGE_ALLOWLIST.allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app1000.example.com",
        "https://app.example.com",
        "https://app1.example.co",
        "https://app1.example.comm",
        "https://app1.example.com:8443",
        "https://app1.example.com/",
        "https://app1.example.com.",
        "https://app1.example.com\n",
        "https://app1-example.com",
        "http://app1.example.com",
        "https://evil.com#https://app1.example.com",
    ],
)
def test_a_thousand_origins_refuse_near_misses(origin):
    assert not LARGE_ALLOWLIST.allows(origin)


def test_an_origin_that_is_a_prefix_of_another_matches_on_its_own():
    """The pattern is a character trie: an entry ending where another goes on must still match."""
    entries = ["https://a.example.co", "https://a.example.com", "https://a.example.com:8443"]
    allowlist = parse_allowlist(" ".join(entries), environment="production")
    for origin in entries:
        assert allowlist.allows(origin)
    for origin in ("https://a.example.c", "https://a.example.com:844", "https://a.example.com:84430"):
        assert not allowlist.allows(origin)


def test_an_empty_allowlist_matches_nothing():
    assert not Allowlist().allows("https://app.example.com")


def test_every_origin_is_allowed_by_any_origin_and_left_out_of_the_pattern():
    """cors/layer.py gives Flask-CORS "*" for it, never the pattern."""
    allowlist = Allowlist(any_origin=True)
    assert allowlist.allows("https://anywhere.example")
    assert allowlist.pattern.match("https://anywhere.example") is None


ANY_LOCAL = parse_allowlist("", environment="development")


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:3000",
        "https://localhost:8443",
        "http://127.0.0.1:5173",
        "https://127.0.0.1",
        "http://[::1]:4200",
        "https://[::1]",
        "http://localhost:65535",
    ],
)
def test_any_local_allows_every_port_on_localhost_127_0_0_1_and_ipv6_loopback(origin):
    assert ANY_LOCAL.any_local
    assert ANY_LOCAL.allows(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost.evil.com",
        "http://localhost:3000.evil.com",
        "http://evillocalhost:3000",
        "http://127.0.0.1.nip.io:3000",
        "http://192.168.1.20:3000",
        "http://0.0.0.0:3000",
        "http://localhost:123456",
        "http://localhost:3000/",
        "ws://localhost:3000",
        "https://app.example.com",
        "null",
    ],
)
def test_any_local_refuses_everything_else(origin):
    assert not ANY_LOCAL.allows(origin)


@pytest.mark.parametrize("host", LOCAL_HOSTS)
def test_the_local_hosts_development_allows_on_any_port_are_refused_in_production(host):
    assert ANY_LOCAL.allows(f"http://{host}:3000")
    assert f"https://{host}:<any port>" in ANY_LOCAL.describe()
    with pytest.raises(OriginError, match="local development origin"):
        normalise_origin(f"https://{host}:3000", environment="production")


def test_describe_lists_entries_as_written():
    entries = "https://b.example.com https://*.preview.example.com https://a.example.com"
    allowlist = parse_allowlist(entries, environment="production")
    assert allowlist.describe() == ["https://a.example.com", "https://b.example.com", "https://*.preview.example.com"]
    assert "http://localhost:<any port>" in ANY_LOCAL.describe()
    assert parse_allowlist("*", environment="development").describe() == ["*"]
