"""The county office's desk (issue #19 point 3): the project library and a project's record (signed in), and the
public announcement page (no sign-in: it reads only the public routes)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.console.projects import drafts, library, public, record

# drafts first: its /projects/{id}/edit is not one of record's /projects/{id}/{action}
ROUTES: tuple[BaseRoute, ...] = (*library.ROUTES, *drafts.ROUTES, *record.ROUTES, *public.ROUTES)
