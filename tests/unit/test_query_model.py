"""The kit's query-parameter model (`shared.runtime.query_model`): parsed in one pass with FastAPI's own
semantics and 422s, and documented in the OpenAPI exactly as FastAPI documents `Annotated[Model, Query()]`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, FastAPI, Query
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from services.customer.api.query import FilterParams
from shared.runtime.api import create_app
from shared.runtime.auth import Perm, Principal, mint_token, require
from shared.runtime.query_model import document_query_models, query_model
from shared.runtime.settings import AuthSettings

AUTH = AuthSettings(jwt_secret="unit-test-secret-unit-test-secret")


class Pets(BaseModel):
    kind: list[Literal["cat", "dog"]] | None = Field(None, description="Kinds.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=5)] | None = None
    age_min: int | None = Field(None, ge=0)
    born_after: AwareDatetime | None = None
    tag: list[Annotated[str, StringConstraints(pattern=r"^[a-z]+$")]] | None = Field(None, max_length=3)


def _apps(model: type[BaseModel]) -> tuple[FastAPI, FastAPI]:
    """(FastAPI's own parse of `model` as a query model, the kit's) — each answering the parsed model."""
    slow, fast = create_app(service="slow", auth=AUTH), create_app(service="fast", auth=AUTH)

    async def slow_params(p: Any) -> Any:  # (as a route uses it: through a dependency)
        return p

    slow_params.__annotations__ = {"p": Annotated[model, Query()], "return": Any}

    @slow.get("/items")
    async def slow_items(p: Any = Depends(slow_params), limit: int = 10) -> dict[str, Any]:
        return {"p": p.model_dump(mode="json"), "limit": limit}

    @fast.get("/items")
    async def fast_items(p: Any = Depends(query_model(model)), limit: int = 10) -> dict[str, Any]:
        return {"p": p.model_dump(mode="json"), "limit": limit}

    return slow, fast


async def _get(app: FastAPI, query: str) -> tuple[int, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get(f"/items?{query}")
    return r.status_code, r.json()


QUERIES = [
    "", "kind=cat", "kind=cat&kind=dog", "kind=bird", "name=x&name=yy", "name=", "name=toolong", "age_min=3",
    "age_min=-1", "age_min=x", "born_after=2025-01-01T00:00:00Z", "born_after=2025-01-01T00:00:00",
    "tag=a&tag=b&tag=c&tag=d", "tag=A", "other=1&kind=dog", "limit=5&kind=cat&age_min=2", "kind=&name=a",
    "age_min=1&age_min=2", "kind=cat&age_min=x&name=",
]


async def test_parsed_as_fastapi_parses_it_values_and_422s() -> None:
    slow, fast = _apps(Pets)
    for query in QUERIES:
        expected, got = await _get(slow, query), await _get(fast, query)
        assert got[0] == expected[0], (query, expected, got)
        if got[0] == 200:
            assert got[1] == expected[1], query
        else:  # the same problem+json: the same fields, messages and order
            assert got[1]["errors"] == expected[1]["errors"], query
            assert got[1]["errors"][0]["field"].startswith("query."), got[1]


async def test_the_customer_filters_parse_as_fastapi_parses_them() -> None:
    slow, fast = _apps(FilterParams)
    for query in ["stage=registered&stage=funded", "stage=bogus", "user_region=hk", "ada_band=10000-100000&ada_band=1-",
                  "age_min=30&age_max=50", "age_min=200", "q=%20abc%20", "q=", "unassigned=true", "unassigned=maybe",
                  "deposit_min=5&deposit_currency=HKD", "deposit_min=-5", "registered_from=2025-01-01T00:00:00",
                  "institution_id=" + "&institution_id=".join(f"i{n}" for n in range(51)), "holds=0700.HK",
                  "risk_rating=R3&channel=organic&tag=vip&tag=new"]:
        expected, got = await _get(slow, query), await _get(fast, query)
        assert got == expected if got[0] == 200 else got[1]["errors"] == expected[1]["errors"], (query, expected, got)


async def test_documented_as_fastapi_documents_the_model() -> None:
    slow, fast = _apps(FilterParams)
    want, have = slow.openapi(), fast.openapi()
    assert have["paths"]["/items"]["get"]["parameters"] == want["paths"]["/items"]["get"]["parameters"]
    assert {k: v for k, v in have["components"]["schemas"].items()} == want["components"]["schemas"]
    assert [p["name"] for p in have["paths"]["/items"]["get"]["parameters"]][:2] == ["limit", "stage"]


async def test_a_component_of_the_same_name_but_another_schema_is_refused() -> None:
    app = FastAPI()

    @app.get("/items")
    async def items(p: Any = Depends(query_model(Pets))) -> None:
        return None

    schema = {"paths": {"/items": {"get": {"parameters": []}}}, "components": {"schemas": {}}}
    document_query_models(app, schema)  # Pets has no component schemas of its own: nothing to clash with
    schema2 = {"paths": {"/items": {"get": {}}}, "components": {"schemas": {}}}
    app2 = FastAPI()

    @app2.get("/items")
    async def items2(p: Any = Depends(query_model(FilterParams))) -> None:
        return None

    schema2["components"]["schemas"]["Stage"] = {"type": "integer"}
    try:
        document_query_models(app2, schema2)
    except ValueError as exc:
        assert "Stage" in str(exc)
    else:
        raise AssertionError("a clashing component schema was accepted")
    assert [p["name"] for p in schema["paths"]["/items"]["get"]["parameters"]] == list(Pets.model_fields)


async def test_authentication_is_checked_before_the_filters() -> None:
    app = create_app(service="auth-first", auth=AUTH)

    @app.get("/items")
    async def items(principal: Principal = Depends(require(Perm.ClientProfileReadOnly)),
                    p: Any = Depends(query_model(Pets))) -> dict[str, Any]:
        return {"kind": p.kind}

    status, _ = await _get(app, "kind=bird")
    assert status == 401
    token = mint_token(AUTH, user_id="u1", role="admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/items?kind=bird", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.kind.0"
        assert (await client.get("/items?kind=dog", headers={"Authorization": f"Bearer {token}"})).json() == \
            {"kind": ["dog"]}
