"""the read path: an index for the data version; reasoning made searchable

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:40:00

Every public answer's tag reads the latest time any entry was written: an index on
updated_at makes that one probe instead of a scan of every row.

Full text now covers the reasoning of each response (public interest factors for and
against, the balance, harm) and the signatory's role, appended after the rest of an entry's
search text (`app.entries.service.reasoning_text`). Existing entries get theirs from the
stored document, which holds exactly those public fields (never the requester); the search
index follows the column on both databases (triggers on SQLite, a generated column on
PostgreSQL).
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
entries = sa.table(
    "disclosure_entry",
    sa.column("id", sa.Integer),
    sa.column("document", sa.Text),
    sa.column("search_text", sa.Text),
)


def _reasoning(document: dict[str, Any]) -> list[str]:
    # The same parts, in the same order, as app.entries.service.reasoning_text (a migration
    # keeps its own copy: the app's code may change after it).
    parts: list[str] = []
    for response in document.get("responses", []):
        for citation in response.get("citations", []):
            reasons = citation.get("public_interest") or {}
            parts += [*reasons.get("for", []), *reasons.get("against", [])]
            parts += [reasons.get("balance") or "", citation.get("harm") or ""]
        parts.append((response.get("signatory") or {}).get("role") or "")
    return [part for part in parts if part]


def _refresh_search_text() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(entries.c.id, entries.c.document, entries.c.search_text)
            .where(entries.c.id > last)
            .order_by(entries.c.id)
            .limit(BATCH)
        ).all()
        changed = []
        for entry_id, document, text in rows:
            reasoning = _reasoning(json.loads(document))
            if reasoning:
                whole = "\n".join([part for part in [text] if part] + reasoning)
                changed.append({"entry_id": entry_id, "text": whole})
        if changed:
            connection.execute(
                entries.update()
                .where(entries.c.id == sa.bindparam("entry_id"))
                .values(search_text=sa.bindparam("text")),
                changed,
            )
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def upgrade() -> None:
    op.create_index("ix_disclosure_entry_updated", "disclosure_entry", ["updated_at"])
    _refresh_search_text()


def downgrade() -> None:
    op.drop_index("ix_disclosure_entry_updated", table_name="disclosure_entry")
