"""gunicorn's settings, from the same environment variables as the app (see .env.example).

gunicorn reads this file from the working directory: `gunicorn {{ cookiecutter.package_name }}.wsgi:app`.
The settings are checked here, in the master process, before any worker starts: a bad value stops
gunicorn once with the error, instead of every worker failing to boot with a traceback, over and over.
"""

import sys

from {{ cookiecutter.package_name }}.cors.policy import start_up_notes
from {{ cookiecutter.package_name }}.logs import gunicorn_logconfig
from {{ cookiecutter.package_name }}.settings import SettingsError, load_settings

try:
    settings = load_settings(dotenv_path=None)
except SettingsError as error:
    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

# Every interface: in a container the proxy connects over the pod's or the bridge's network. With a proxy on
# the same machine, bind loopback only, on the command line, which wins over this file:
#   gunicorn --bind 127.0.0.1:8000 {{ cookiecutter.package_name }}.wsgi:app   (and TRUSTED_PROXIES=127.0.0.1)
bind = f"0.0.0.0:{settings.port}"
workers = settings.web_concurrency
timeout = settings.timeout
graceful_timeout = settings.timeout
# The peers whose X-Forwarded-* headers gunicorn believes, as the app's ProxyFix does (proxies.py): with
# TRUSTED_PROXY_HOPS=0 none ("" lists no address; gunicorn's own default trusts 127.0.0.1); else the addresses
# and networks of TRUSTED_PROXIES, or, where it is empty (development and testing only), any peer ("*").
forwarded_allow_ips = (",".join(map(str, settings.trusted_proxies)) or "*") if settings.trusted_proxy_hops else ""
# Logs go to stdout, where containers and process managers collect them: gunicorn's error and access lines
# through the app's handler, in LOG_FORMAT (JSON lines in staging and production).
accesslog = "-"
errorlog = "-"
logconfig_dict = gunicorn_logconfig(settings.log_format)


def when_ready(server):
    """Once, in the master, as it starts serving: which policies allow more than their listed origins."""
    for note in start_up_notes(settings.policies):
        server.log.info(note)
