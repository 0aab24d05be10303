"""The CORS policies: which paths each one covers and who may call them. Add yours here.

Each `Policy` covers the paths under its prefix (and the prefix without its last slash); for a
path, the policy with the longest matching prefix decides, and a path no policy covers gets no CORS
header at all. Whatever a view, hook or extension sets itself never reaches a client: these
policies are the only source of Access-Control-* headers.

- "default" covers /api/ and reads CORS_ORIGINS, CORS_ALLOW_CREDENTIALS and the other CORS_*
  variables (.env.example).
- Any other policy reads the same settings with its name after CORS_: a Policy("partners",
  "/api/partners/") reads CORS_PARTNERS_ORIGINS, CORS_PARTNERS_ALLOW_CREDENTIALS, ... with the same
  rules in staging and production (required, https only, no `*`).
- A public policy answers every origin with `Access-Control-Allow-Origin: *`, never with credentials:
  for what any site may read. It is the only way `*` reaches staging or production.
- `dynamic_origins=` takes a function origin -> bool for origins that change at run time (tenants'
  own domains, say), asked about Origins the allowlist refuses; see docs/policies.md.
"""

from .cors import Policy

POLICIES = (
    Policy("default", "/api/"),
    Policy("public", "/api/public/", public=True, defaults={"ALLOW_METHODS": "GET, HEAD"}),
)
