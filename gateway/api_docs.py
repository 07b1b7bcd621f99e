"""The page at /docs: Swagger UI over /openapi.json, every byte of it from this gateway (issue #19 point 5).

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script. Since people sign in with a
cookie on this origin, a script from elsewhere could act as them; so the page loads the vendored copy
(gateway/console/static/vendor/, pinned in deploy/vendor_assets.py), starts it from a file of ours
(static/swagger-init.js), and carries the console's Content-Security-Policy, which allows nothing else.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse

from gateway.console.render import SECURITY_HEADERS

STATIC = "/console/static"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>FundTrack API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{STATIC}/vendor/swagger-ui.css">
  <script src="{STATIC}/vendor/swagger-ui-bundle.js" defer></script>
  <script src="{STATIC}/swagger-init.js" defer></script>
</head>
<body>
  <main id="swagger-ui"></main>
</body>
</html>
"""


def docs_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=SECURITY_HEADERS)
