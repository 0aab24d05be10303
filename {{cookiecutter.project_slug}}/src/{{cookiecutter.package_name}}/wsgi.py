"""The entry point gunicorn serves: `gunicorn {{ cookiecutter.package_name }}.wsgi:app`.

Only real environment variables are read here: a .env file is for local development, and one
left on a server must not turn production into development.
"""

from . import create_app
from .settings import load_settings

app = create_app(load_settings(dotenv_path=None))
