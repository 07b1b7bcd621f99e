"""The county office's roster import (issue #19 point 3): the page that chooses a CSV file, a county and the day
the roster stands for. The file goes from the browser straight to the public import route (static/roster.js: the
person's session cookie, the CSRF header, a fresh Idempotency-Key), whose progress the page polls
(GET /registry/imports/{key}/progress) and whose answer it shows: the counts and the rejected lines by number,
downloadable. The console itself writes nothing here: the API judges the file. The page polls the progress through
`progress` below, which asks the API's progress route as the person and answers "not known yet" for its 404 (an
import whose first progress write has not landed yet, as another person's import): a 404 in the browser is a
console error, and not knowing yet is no error."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.guard import page
from gateway.console.render import SECURITY_HEADERS, render
from gateway.sessions import Signed
from services.kernel import clock
from services.kernel.regions import is_county

# The header API.md gives the roster file (the public contract; tests/console/test_roster.py holds it to the registry's)
HEADER = ("household_id", "head_id_number", "head_name", "county_code", "village_code", "status", "members",
          "village_cadre", "card_account")
IMPORT_PATH = "/registry/households/import"
PROGRESS_PATH = "/registry/imports/{key}/progress"
CONSOLE_PROGRESS_PATH = "/console/roster/progress/{key}"
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
        progress_path=CONSOLE_PROGRESS_PATH,
    )


@page(*IMPORTERS)
async def progress(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    """The person's import's progress as the API gives it (`known`: true), or `known`: false for the API's 404."""
    key = request.path_params["key"]
    try:
        found = await api.get(PROGRESS_PATH.format(key=quote(key, safe="")))
    except ApiError as error:
        if error.status != 404:
            raise
        return JSONResponse({"known": False, "key": key}, headers=SECURITY_HEADERS)
    return JSONResponse({"known": True, **found}, headers=SECURITY_HEADERS)


ROUTES = [
    Route("/roster", roster, methods=["GET"]),
    Route("/roster/progress/{key}", progress, methods=["GET"]),
]
