"""A query-parameter model parsed by the kit in one pass, documented exactly as FastAPI documents one.

FastAPI parses a query-parameter model (`p: Annotated[Model, Query()]`) field by field on every request and
works out again, for each field, whether its annotation is a sequence: for the customer list's 35 filters that
was about a quarter of a call's CPU. `query_model(Model)` is a dependency that parses the same query string the
same way — a list field takes every value of its repeated key, any other field the last one, keys the model does
not know are left to the model's `extra` policy — and validates the result with `Model.model_validate` (one call
into pydantic-core). An invalid value is the same 422 (`RequestValidationError`, loc `("query", <field>, …)`),
which the kit answers as problem+json naming `query.<field>`.

FastAPI cannot see the fields behind the dependency, so `document_query_models` (run by the kit's OpenAPI
post-processing, `openapi_problems.document_problems`) adds them to every operation that depends on it: the
parameters and component schemas FastAPI itself renders for `Annotated[Model, Query()]`, so the published
document (and the console's generated clients) is what FastAPI would write.
"""

from __future__ import annotations

import copy
import functools
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
QUERY_MODEL = "__whale_query_model__"  # the attribute naming a dependency's model (for the OpenAPI)
_SEQUENCES = (list, set, frozenset, tuple)


def _is_sequence(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_sequence(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_is_sequence(arg) for arg in get_args(annotation) if arg is not type(None))
    return origin in _SEQUENCES or annotation in _SEQUENCES


def query_model(model: type[M]) -> Callable[[Request], Any]:
    """A dependency giving `model` validated from the request's query string (see the module's docstring)."""
    fields = {(info.alias or name): _is_sequence(info.annotation) for name, info in model.model_fields.items()}

    async def parse(request: Request) -> M:
        query = request.query_params
        data = {key: query.getlist(key) if fields[key] else query[key] for key in query if key in fields}
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None

    setattr(parse, QUERY_MODEL, model)
    parse.__name__ = f"query_{model.__name__}"
    return parse


@functools.cache
def rendered(model: type[BaseModel]) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """(the query parameters, the component schemas they refer to) FastAPI renders for `model` as a query
    model — read off a one-route app of its own."""
    probe = FastAPI()

    async def endpoint(params: Any) -> None:
        return None

    endpoint.__annotations__ = {"params": Annotated[model, Query()], "return": None}  # (not a string: resolved)
    probe.get("/")(endpoint)
    doc = probe.openapi()
    schemas = {name: schema for name, schema in doc.get("components", {}).get("schemas", {}).items()
               if name not in ("HTTPValidationError", "ValidationError")}
    return tuple(doc["paths"]["/"]["get"].get("parameters", [])), schemas


def _models(dependant: Any) -> Iterator[type[BaseModel]]:
    for dep in dependant.dependencies:
        model = getattr(dep.call, QUERY_MODEL, None)
        if model is not None:
            yield model
        yield from _models(dep)


def document_query_models(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Each operation depending on a `query_model` lists the model's query parameters after its own; the
    schemas they refer to join the components (a name already there with another schema is an error)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for route in iter_route_contexts(app.routes):  # included routers too
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for model in dict.fromkeys(_models(route.dependant)):
            parameters, schemas = rendered(model)
            for name, definition in schemas.items():
                if components.setdefault(name, copy.deepcopy(definition)) != definition:
                    raise ValueError(f"component schema {name!r} of {model.__name__} differs from the one present")
            for method in route.methods:
                op = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
                if op is None:
                    continue
                present = {(p.get("in"), p.get("name")) for p in op.get("parameters", [])}
                op.setdefault("parameters", []).extend(
                    copy.deepcopy(p) for p in parameters if (p["in"], p["name"]) not in present)
    return schema
