"""The county office's desk (issue #19 point 3): the project library and a project's record (signed in), and the
public announcement page (no sign-in: it reads only the public routes)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway.console.projects import library, public, record

ROUTES: tuple[BaseRoute, ...] = (*library.ROUTES, *record.ROUTES, *public.ROUTES)
