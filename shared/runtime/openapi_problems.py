"""Every operation of every API documents its error responses as `application/problem+json`.

`document_problems(app)` post-processes FastAPI's generated OpenAPI once: a `Problem` schema (RFC 9457
with our `errors` list for validation problems) and, on each operation, the errors the kit and the
routes can answer — 400, 401, 403, 404 (a resource the path, a filter or the body names), 422, 431 and 503 everywhere,
409 on commands, 413 where there is a body. A route adds its own with `responses={...}`; FastAPI's
default 422 (`HTTPValidationError`, application/json) is replaced by the problem. It also states each
operation's permission rule (`x-whale-permission`, from the route's `require` / `require_any`), and the query
parameters of the kit's query models (`query_model.document_query_models`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from .auth import PERMISSION_RULE
from .idempotency import HEADER
from .query_model import document_query_models

PROBLEM = "application/problem+json"
_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details. Validation problems (422) list every invalid field in `errors`.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "URI of the problem type (`about:blank` or a whale URN)."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"description": "What went wrong; for validation problems `<field>: <message>`."},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "field": {"type": "string", "description": "The offending field (domain validation)."},
        "code": {"type": "string", "description": "Stable machine-readable reason."},
        "correlation_id": {"type": "string"},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Malformed request (e.g. an invalid X-Correlation-ID header).",
    401: "Missing, expired or invalid bearer token.",
    403: "The token lacks a permission this operation needs.",
    404: "A resource the request names (path, filter or body) is unknown or outside the caller's data scope.",
    409: "The command conflicts with the resource's current state (or a reused Idempotency-Key).",
    413: "Request body too large.",
    422: "Invalid input; `errors` names every field (lengths, formats, explicit nulls, interval order, cursors).",
    431: "Request headers too large.",
    503: "A dependency (database, event store) is unavailable; retry after `Retry-After` seconds.",
}
_WRITES = {"post", "put", "patch", "delete"}


def _problem_response(code: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    desc = (existing or {}).get("description")
    if not desc or desc in ("Validation Error", "Successful Response"):
        desc = DESCRIPTIONS.get(code, "Error")
    out: dict[str, Any] = {"description": desc, "content": {PROBLEM: {"schema": _REF}}}
    if code == 503:
        out["headers"] = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                          "schema": {"type": "integer"}}}
    return out


def _codes(path: str, method: str, op: dict[str, Any]) -> set[int]:
    codes = {400, 401, 403, 404, 422, 431, 503}  # 404: a resource the path, a filter or the body names
    if method in _WRITES:
        codes.add(409)
    if "requestBody" in op:
        codes.add(413)
    return codes


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes a retried command safe: the same key with the same request returns the first answer "
                   "and creates nothing twice (kept 24 h); the same key with another request is a 422.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:\\-]{1,200}$", "minLength": 1, "maxLength": 200},
}


def add_problem_responses(schema: dict[str, Any], *, idempotent_posts: bool = False) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "patch", "delete", "head", "options"):
                continue
            params = op.setdefault("parameters", []) if idempotent_posts and method == "post" else None
            if params is not None and not any(p.get("in") == "header" and p.get("name", "").lower() == HEADER
                                              for p in params):
                params.append(IDEMPOTENCY_PARAMETER)
            responses = op.setdefault("responses", {})
            declared = {int(k) for k in responses if k.isdigit() and int(k) >= 400}
            for code in sorted(_codes(path, method, op) | declared):
                responses[str(code)] = _problem_response(code, responses.get(str(code)))
    return schema


def _rules(dependant: Any) -> list[dict[str, Any]]:
    found = []
    for dep in dependant.dependencies:
        rule = getattr(dep.call, PERMISSION_RULE, None)
        if rule is not None:
            found.append(rule)
        found += _rules(dep)
    return found


def permission_rules(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """`x-whale-permission` on every operation whose route depends on `require` / `require_any` (what the
    authorization matrix test and the console read): the rules of all its dependencies merged — `all_of` the
    union, one `any_of` (with its `scope`)."""
    for route in iter_route_contexts(app.routes):  # included routers too
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        rules = _rules(route.dependant)
        if not rules:
            continue
        merged: dict[str, Any] = {"all_of": sorted({p for r in rules for p in r.get("all_of", ())})}
        anys = [r for r in rules if "any_of" in r]
        if len(anys) > 1:
            raise ValueError(f"{route.path}: more than one require_any")
        if anys:
            merged.update(anys[0])
            if not merged["all_of"]:
                del merged["all_of"]
        served = [set(r["scopes"]) for r in rules if "scopes" in r]
        if served:
            merged["scopes"] = sorted(set.intersection(*served))
        for method in route.methods:
            op = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if op is not None:
                op["x-whale-permission"] = merged
    return schema


def document_problems(app: FastAPI, *, idempotent_posts: bool = False) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            generated = document_query_models(app, get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers))
            app.openapi_schema = permission_rules(app, add_problem_responses(generated,
                                                                             idempotent_posts=idempotent_posts))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
