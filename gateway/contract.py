"""The published OpenAPI document made exact from the route table (issue #14): what a client generator reads.

Each operation's who (`security`: none for a public route, the bearer key otherwise), its body limit
(`x-max-body-bytes`) and every problem answer it can give, each as an RFC 9457 problem (`application/problem+json`,
the `Problem` schema), are derived here, once, from the operation's entry in `gateway/policy.py`: the statuses its
shape implies (a key: 401, 403; a path parameter: 404; a body: 400, 408, 413; a write: 409; the public's POST: 429;
a service or database behind it: 503) and those its entry names besides (`problems=`). The bodies, parameters and
success answers are the services' own documents, whose field types (services/kernel/types.py) carry the patterns.
"""

from __future__ import annotations

from typing import Any

from gateway.policy import GATEWAY, NO_BODY, ROUTES, Route
from services.kernel.types import ID_PATTERN, TEXT_PATTERN

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is for programs, `detail` for people, `field` names bad input",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message", "type"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "type": {"type": "string"}},
            },
        },
        "limit_bytes": {"type": "integer", "description": "413: the route's body limit"},
        "service": {"type": "string", "description": "503: the service or dependency that did not answer"},
    },
    "additionalProperties": True,
}
WHY: dict[int, str] = {
    400: "REQUEST_BODY_INCOMPLETE: the body ended before its declared end; nothing was done",
    401: "UNAUTHORIZED: no key, or one unknown or revoked",
    403: "FORBIDDEN (the role may not call this) or NOT_IN_JURISDICTION (outside the key's region)",
    404: "NOT_FOUND: no such object in the caller's reach",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_BODY_TIMEOUT: the body did not arrive in time (S12); nothing was done",
    409: "IDEMPOTENCY_CONFLICT (the key was used for another request), or the object's state forbids the change",
    413: "PAYLOAD_TOO_LARGE: the body is over this route's limit (`limit_bytes`, also `x-max-body-bytes`)",
    415: "UNSUPPORTED_MEDIA_TYPE: the body is not of the media type this route takes",
    422: "VALIDATION_ERROR naming the `field`, or a rule's refusal naming the `rule`",
    429: "RATE_LIMITED: too many submissions from this address",
    503: ("SERVICE_UNAVAILABLE, DEPENDENCY_UNAVAILABLE, DATABASE_TIMEOUT or REQUEST_OUTLIVED_SIGNATURE: try again "
          "(with the same Idempotency-Key)"),
}
HEALTH = frozenset({"/healthz", "/readyz"})
FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def route_of(method: str, template: str) -> Route | None:
    return next((r for r in ROUTES if r.method == method.upper() and r.template == template), None)


def problem_statuses(route: Route) -> frozenset[int]:
    """Every problem status the operation can answer: from its shape, and those its entry names."""
    statuses = {422}  # a malformed parameter (or a control character in any), or a body refused
    if not route.public:
        statuses |= {401, 403}
    elif route.method == "POST":
        statuses.add(429)
    if "{" in route.template:
        statuses.add(404)
    if route.max_body > NO_BODY:
        statuses |= {400, 408}
    statuses.add(413)  # a route that takes no body refuses one too
    if route.method != "GET":
        statuses.add(409)
    if not (route.target == GATEWAY and route.template in HEALTH):
        statuses.add(503)
    return frozenset(statuses | route.problems)


def _problem(status: int) -> dict[str, Any]:
    content = {"application/problem+json": {"schema": PROBLEM_REF}}
    return {"description": WHY.get(status, "a problem"), "content": content}


def _is_fastapi_default(response: Any) -> bool:
    if not isinstance(response, dict):
        return False
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return isinstance(schema, dict) and schema.get("$ref") == FASTAPI_VALIDATION


def _string_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [part for part in (schema, *schema.get("anyOf", ())) if part.get("type") == "string"]


def document_parameter(parameter: dict[str, Any]) -> None:
    """What the door refuses in any parameter (a control character; an id in the path that is not one), said in a
    string parameter's schema unless its own pattern, format or values say more."""
    for schema in _string_schemas(parameter.get("schema", {})):
        if not {"pattern", "format", "enum", "const"} & schema.keys():
            by_id = parameter.get("in") == "path" and str(parameter.get("name", "")).endswith("_id")
            schema["pattern"] = ID_PATTERN if by_id else TEXT_PATTERN


def finish_operation(route: Route, operation: dict[str, Any]) -> None:
    operation["security"] = [] if route.public else [{"bearer": []}]
    for parameter in operation.get("parameters", ()):
        document_parameter(parameter)
    who = "public, no key" if route.public else "roles: " + ", ".join(sorted(route.roles))
    operation["description"] = f"{operation.get('description', '')}\n\n**Who:** {who}".strip()
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(problem_statuses(route)):
        key = str(status)
        if key not in responses or _is_fastapi_default(responses[key]):
            responses[key] = _problem(status)
    body = operation.get("requestBody")
    if isinstance(body, dict):
        body["x-max-body-bytes"] = route.max_body
        limit = f"at most {route.max_body} bytes" + (", streamed" if route.streamed else "")
        body["description"] = f"{body.get('description', '')} ({limit}; 413 over it)".strip()
    operation["x-max-body-bytes"] = route.max_body


def finish(document: dict[str, Any]) -> dict[str, Any]:
    """`document` (the gateway's and the services' public operations, merged) made exact, in place."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route = route_of(method, path)
            if route is not None and isinstance(operation, dict):
                finish_operation(route, operation)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    return document
