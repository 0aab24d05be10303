"""The team's routes, one module per resource; create_app() registers every blueprint listed here.

policies.py says which CORS policy covers each path: everything under /api/ the default one,
/api/public/ the public one.
"""

from . import {% if cookiecutter.auth != "none" %}auth, {% endif %}{% if cookiecutter.database == "none" %}echo, {% endif %}health{% if cookiecutter.database == "postgresql" %}, items{% endif %}

# The blueprints the app serves (create_app registers each): add yours here.
blueprints = (
    health.blueprint,
{%- if cookiecutter.database == "postgresql" %}
    items.blueprint,
{%- endif %}
{%- if cookiecutter.auth != "none" %}
    auth.blueprint,
{%- endif %}
{%- if cookiecutter.database == "none" %}
    echo.blueprint,
{%- endif %}
    health.public,
)
