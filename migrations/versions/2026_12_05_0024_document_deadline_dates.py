"""entry documents carry what moved their due date: the clarification and the extension

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 11:10:00

`due_on` and `responded_within_deadline` are derived from the request's dates (SPEC §2), and
an import derives them again, never trusting them. A document without the clarification's
date or the extended due date gave a mirror an earlier due date, and a response on time at
the source was late there. Documents now end with both; those stored before get them here,
appended as the code appends them, from their request's row (null where there is none).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _date_of(column: str) -> str:
    """The request's date as a JSON value: a quoted ISO date, or null."""
    return (
        f"coalesce('\"' || (SELECT CAST(r.{column} AS TEXT) FROM foi_request r "
        f"WHERE r.id = disclosure_entry.request_id) || '\"', 'null')"
    )


def upgrade() -> None:
    op.execute(
        "UPDATE disclosure_entry SET document = substr(document, 1, length(document) - 1) "
        "|| ',\"clarification_received_on\":' || "
        + _date_of("clarification_received_on")
        + " || ',\"extended_due_on\":' || "
        + _date_of("extended_due_on")
        + " || '}' WHERE document LIKE '{%}' AND document NOT LIKE '%\"extended_due_on\":%'"
    )


def downgrade() -> None:
    # The fields are the document's last two: cut from the first of them to the end.
    find = "instr" if op.get_bind().dialect.name == "sqlite" else "strpos"
    at = f"{find}(document, ',\"clarification_received_on\":')"
    op.execute(
        f"UPDATE disclosure_entry SET document = substr(document, 1, {at} - 1) || '}}' "
        f"WHERE {at} > 0"
    )
