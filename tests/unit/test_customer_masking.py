"""Masking of personal data and CSV cell safety."""

from __future__ import annotations

from services.customer.api.export import _cell
from services.customer.api.masking import mask_email, mask_tail, mask_text, person


def test_masks_keep_only_what_identifies_nothing():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_tail("91234567") == "****4567"
    assert mask_tail("1234") == "****"  # too short to show a tail
    assert mask_text("Jane Doe") == "J*******"
    assert mask_email(None) is None and mask_tail("") == ""


def test_person_masks_unless_allowed():
    row = {"name": "Jane Doe", "phone_dialing_code": "+852", "phone_number": "91234567", "email": "j@x.io"}
    assert person(row, unmasked=True) == row
    masked = person(row, unmasked=False)
    assert masked["phone_dialing_code"] == "+852" and "9123" not in masked["phone_number"]
    assert masked["email"] == "j***@x.io" and masked["name"] == "J*******"


def test_csv_cells_never_start_a_formula():
    assert _cell("=HYPERLINK(\"http://x\")").startswith("'=")
    assert _cell("+85291234567") == "'+85291234567"
    assert _cell("-5") == "'-5" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell({"USD": "10", "HKD": "5"}) == "USD:10;HKD:5" and _cell(["a", "b"]) == "a;b"
    assert _cell(None) == ""
