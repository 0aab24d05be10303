"""gunicorn's settings, from the same environment variables as the app (see .env.example).

gunicorn reads this file from the working directory: `gunicorn {{ cookiecutter.package_name }}.wsgi:app`.
The settings are checked here, in the master process, before any worker starts: a bad value stops
gunicorn once with the error, instead of every worker failing to boot with a traceback, over and over.
"""

import sys

from {{ cookiecutter.package_name }}.settings import SettingsError, load_settings

try:
    settings = load_settings(dotenv_path=None)
except SettingsError as error:
    print(f"Error: {error}", file=sys.stderr)
    raise SystemExit(2) from None

bind = f"0.0.0.0:{settings.port}"
workers = settings.web_concurrency
timeout = settings.timeout
graceful_timeout = settings.timeout
# Logs go to stdout and stderr, where containers and process managers collect them.
accesslog = "-"
errorlog = "-"
