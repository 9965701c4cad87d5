"""Search index on SQLite: who may find each row is an indexed token (for speed)

Revision ID: 0009_search_audience
Revises: 0008_previews
Create Date: 2026-12-02 10:00:00

Joining ``document`` for every match, only to drop deleted documents and, for clients,
internal ones, cost more than the full-text match and its ranking on a large portal. The
new ``audience`` column says it inside the index: ``client`` (shared, not deleted),
``staff`` (internal, not deleted) or ``deleted``. It rebuilds the table of 0006b, so it
depends on that revision, whichever branch runs first. PostgreSQL is unchanged.
"""

from alembic import op

revision = "0009_search_audience"
down_revision = "0008_previews"
branch_labels = None
depends_on = "0006b_search_fts_ids"

TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"
AUDIENCE = (
    "CASE WHEN d.deleted_at IS NOT NULL THEN 'deleted' "
    "WHEN d.visibility = 'shared' THEN 'client' ELSE 'staff' END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS search_entry_fts")
    op.execute(
        "CREATE VIRTUAL TABLE search_entry_fts USING fts5("
        f"document_id, title, body, space_id, audience, {TOKENIZER})"
    )
    op.execute(  # constant fragments only
        "INSERT INTO search_entry_fts (document_id, title, body, space_id, audience) "  # noqa: S608
        f"SELECT e.document_id, e.title, e.body, d.space_id, {AUDIENCE} "
        "FROM search_entry e JOIN document d ON d.id = e.document_id"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS search_entry_fts")
    op.execute(
        "CREATE VIRTUAL TABLE search_entry_fts USING fts5("
        f"document_id, title, body, space_id, {TOKENIZER})"
    )
    op.execute(
        "INSERT INTO search_entry_fts (document_id, title, body, space_id) "
        "SELECT e.document_id, e.title, e.body, d.space_id "
        "FROM search_entry e JOIN document d ON d.id = e.document_id"
    )
