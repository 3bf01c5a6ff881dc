"""Constrained field types shared by the contracts."""

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _no_float(value: Any) -> Any:
    """Money travels as a decimal string (or an integer): a JSON float may already have lost precision."""
    if isinstance(value, float):
        raise ValueError("money must be a decimal string such as \"12.50\", not a JSON number with a fraction")
    return value


CustomerId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$",
                                  description="Brokerage customer id (the platform's user id).")]
EntityId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country/region code.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.")]
Money = Annotated[Decimal, BeforeValidator(_no_float), Field(max_digits=24, decimal_places=8,
                                 description="Decimal amount, serialised as a string; never a float.")]
PositiveMoney = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, max_digits=24, decimal_places=8,
                                         description="Strictly positive decimal amount, as a string.")]
ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=4000)]
