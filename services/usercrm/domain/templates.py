"""Message templates: `{placeholder}` text rendered with the caller's variables plus {name} and {brand}."""

from __future__ import annotations

import string
from collections.abc import Mapping


class TemplateError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def render(templates: Mapping[str, Mapping[str, str]], template_id: str, variables: Mapping[str, str],
           ) -> tuple[str | None, str]:
    """(subject, body) of the template; raises TemplateError naming the missing or unknown input."""
    template = templates.get(template_id)
    if template is None:
        raise TemplateError("template_id", f"unknown template {template_id!r}")
    subject, body = template.get("subject"), template.get("body", "")
    for name in sorted(placeholders(body) | placeholders(subject or "")):
        if name not in variables:
            raise TemplateError(f"variables.{name}", "required by the template")
    return (subject.format_map(variables) if subject else None), body.format_map(variables)
