"""Search index on SQLite: document and space ids become searchable tokens (for speed)

Revision ID: 0006b_search_fts_ids
Revises: 0006
Create Date: 2026-12-02 06:00:00

Reading the ``UNINDEXED`` document id of every match cost more than the search itself
on a large portal (a common word matches most documents). With the ids indexed, the
full-text query narrows to the spaces a person may see, and re-indexing one document
finds its row through the index instead of scanning the table. PostgreSQL is unchanged.
"""

from alembic import op

revision = "0006b_search_fts_ids"
down_revision = "0006"
branch_labels = None
depends_on = None

TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"


def upgrade() -> None:
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


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS search_entry_fts")
    op.execute(
        "CREATE VIRTUAL TABLE search_entry_fts USING fts5("
        f"document_id UNINDEXED, title, body, {TOKENIZER})"
    )
    op.execute(
        "INSERT INTO search_entry_fts (document_id, title, body) "
        "SELECT document_id, title, body FROM search_entry"
    )
