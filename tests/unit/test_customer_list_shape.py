"""The customer list's items made from page rows by position (`ListShape`): the answer's keys, order and value
forms as they were when each row was a dict (times ISO 8601 in UTC, money without padding zeros, masked
personal data, managers in the detail's order, the ADA block)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import orjson

from services.customer.api.assets import ADA_VALUES, ada_block
from services.customer.api.deps import Rows
from services.customer.api.routes_read import LIST_FIELDS, PERSON_FIELDS, list_shape
from shared.runtime.api import json_response


def _row(**over: object) -> dict[str, object]:
    row: dict[str, object] = {k: None for k in LIST_FIELDS}
    row.update({"customer_id": "c1", "registered": True, "stage": "funded", "tags": ["vip"],
                "deposits": {"USD": "10"}, "withdrawals": {}, "trades_count": 3,
                "registered_at": datetime(2026, 1, 2, 3, 4, 5),  # SQLite: naive UTC
                "stage_changed_at": datetime(2026, 1, 2, 11, 4, 5, 120000, tzinfo=timezone(timedelta(hours=8))),
                "last_activity_at": datetime(2026, 2, 1, tzinfo=UTC),
                "total_assets": Decimal("1328137.50000000"), "assets_currency": "USD",
                "name": "Alice Example", "phone_dialing_code": "+852", "phone_number": "91234567",
                "email": "alice@example.com", "sort_registered_at": datetime(2026, 1, 2), "assets_sort": Decimal(1),
                "ada_currency": "USD", "ada_as_of": date(2025, 12, 31), "ada30": Decimal("23323.38000000"),
                "ada30_prev": Decimal("20000.00000000"), "ada90": "100.5", "ada90_prev": None,
                "ada365": None, "ada365_prev": None,
                "managers": json.dumps([{"manager_id": "m2", "team_id": "t", "stage": "*", "share": "0.50"},
                                        {"manager_id": "m1", "team_id": "t", "stage": "*", "share": None}])})
    row.update(over)
    return row


def _answer(rows: list[dict[str, object]], unmasked: bool) -> list[dict[str, object]]:
    page = Rows.of(rows)
    body = json_response({"items": list_shape(page.names).items(page.rows, unmasked)}).body
    return orjson.loads(body)["items"]


def test_items_keep_the_answers_keys_order_and_value_forms() -> None:
    (item,) = _answer([_row()], unmasked=True)
    assert list(item) == [*LIST_FIELDS, *PERSON_FIELDS, "managers", "ada"]
    assert item["registered_at"] == "2026-01-02T03:04:05+00:00"
    assert item["stage_changed_at"] == "2026-01-02T03:04:05.120000+00:00"
    assert item["last_activity_at"] == "2026-02-01T00:00:00+00:00"
    assert item["first_deposit_at"] is None
    assert item["total_assets"] == "1328137.5"
    assert item["deposits"] == {"USD": "10"} and item["tags"] == ["vip"] and item["trades_count"] == 3
    assert (item["name"], item["phone_number"], item["email"]) == ("Alice Example", "91234567", "alice@example.com")
    assert item["managers"] == [{"manager_id": "m1", "team_id": "t", "stage": None, "share": None},
                                {"manager_id": "m2", "team_id": "t", "stage": None, "share": "0.5"}]
    assert item["ada"] == ada_block(_row()) == {
        "currency": "USD", "as_of": "2025-12-31",
        "windows": [{"days": 30, "ada": "23323.38", "previous": "20000", "change": "3323.38", "change_pct": "16.62"},
                    {"days": 90, "ada": "100.5", "previous": None, "change": None, "change_pct": None},
                    {"days": 365, "ada": None, "previous": None, "change": None, "change_pct": None}]}
    assert set(ADA_VALUES) <= set(_row())


def test_masked_items_and_rows_without_assets_or_ada() -> None:
    items = _answer([_row(), _row(customer_id="c2", total_assets=None, ada_as_of=None, managers=None, name=None)],
                    unmasked=False)
    first, second = items
    assert first["name"] == "A************" and first["phone_number"] == "****4567"
    assert first["email"] == "a***@example.com" and first["phone_dialing_code"] == "+852"
    assert "Alice" not in orjson.dumps(items).decode() and "91234567" not in orjson.dumps(items).decode()
    assert second["total_assets"] is None and second["ada"] is None and second["managers"] == []
    assert second["name"] is None


def test_a_shape_is_made_once_per_column_list() -> None:
    names = Rows.of([_row()]).names
    assert list_shape(list(names)) is list_shape(list(names))
    assert Rows.of([]).rows == [] and Rows.of([_row()]).dicts() == [_row()]
