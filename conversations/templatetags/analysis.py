"""`{% provenance message %}`: a reply's queries and charts, for the chat page and the admin."""

from typing import Any

from django import template

from ..models import Message

register = template.Library()

ROWS_SHOWN = 50


@register.inclusion_tag("analysis/provenance.html")
def provenance(message: Message) -> dict[str, Any]:
    entries = [
        {**entry, "spec_id": f"chart-{message.public_id}-{number}", "hidden_rows": max(0, len(entry.get("rows", [])) - ROWS_SHOWN)}
        for number, entry in enumerate(message.provenance, start=1)
    ]
    return {"entries": entries, "rows_shown": f":{ROWS_SHOWN}"}
