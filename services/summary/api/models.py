"""Request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportIn(BaseModel):
    """My daily report for one local date."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=4000, description="What was done today.")
    next_plan: str | None = Field(default=None, max_length=4000, description="Plan for the next day.")
    issues: str | None = Field(default=None, max_length=4000, description="Problems needing help.")
    expected_version: int | None = Field(
        default=None, ge=0, description="Optimistic concurrency: the version being edited (0 = must be new)."
    )


class ChangelogIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=4000)
    version_label: str | None = Field(default=None, max_length=60, description="Release label, e.g. 2024.06.1.")
