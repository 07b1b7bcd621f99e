"""The county office's roster import (issue #19 point 3): the page that chooses a CSV file, a county and the day
the roster stands for. The file goes from the browser straight to the public import route (static/roster.js: the
person's session cookie, the CSRF header, a fresh Idempotency-Key), whose progress the page polls
(GET /registry/imports/{key}/progress) and whose answer it shows: the counts and the rejected lines by number,
downloadable. The console itself reads and writes nothing here: the API judges the file."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.console.api import ConsoleApi
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed
from services.kernel import clock
from services.kernel.regions import is_county

# The header API.md gives the roster file (the public contract; tests/console/test_roster.py holds it to the registry's)
HEADER = ("household_id", "head_id_number", "head_name", "county_code", "village_code", "status", "members",
          "village_cadre", "card_account")
IMPORT_PATH = "/registry/households/import"
PROGRESS_PATH = "/registry/imports/{key}/progress"
IMPORTERS = ("project_manager", "admin")


@page(*IMPORTERS)
async def roster(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    region = signed.principal.region_code
    return render(
        request, "roster/import.html",
        header=",".join(HEADER),
        county=region if is_county(region) else "",
        today=clock.today().isoformat(),
        import_path=IMPORT_PATH,
        progress_path=PROGRESS_PATH,
    )


ROUTES = [Route("/roster", roster, methods=["GET"])]
