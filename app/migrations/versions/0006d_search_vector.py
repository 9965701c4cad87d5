"""Search index on PostgreSQL: a stored tsvector column under the GIN index (for speed)

Revision ID: 0006d_search_vector
Revises: 0006c_document_list_indexes
Create Date: 2026-12-02 06:40:00

With the index on an expression, ranking (and any plan that starts from a person's
spaces) recomputed ``to_tsvector`` of every candidate text on every search: more than a
second for a common word. A generated column keeps the vector, made once per change.
SQLite is unchanged.
"""

from alembic import op

revision = "0006d_search_vector"
down_revision = "0006c_document_list_indexes"
branch_labels = None
depends_on = None

VECTOR = "to_tsvector('spanish', coalesce(title, '') || ' ' || coalesce(body, ''))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE search_entry ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({VECTOR}) STORED"
    )
    op.execute("DROP INDEX IF EXISTS ix_search_entry_spanish")
    op.execute("CREATE INDEX ix_search_entry_vector ON search_entry USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_entry_vector")
    op.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS search_vector")
    op.execute(f"CREATE INDEX ix_search_entry_spanish ON search_entry USING gin ({VECTOR})")
