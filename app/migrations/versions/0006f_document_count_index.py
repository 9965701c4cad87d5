"""An index that counts a space's documents for its page without reading them (for speed)

Revision ID: 0006f_document_count_index
Revises: 0006d_search_vector
Create Date: 2026-12-02 10:00:00

The space page counts the documents a person may see (not deleted; shared ones only for a
client) to number its pages. With the space, visibility and deletion in one index, that
count reads the index alone instead of every document row of the space; with the title
last, a client's page in title order is read from it already sorted.
"""

from alembic import op

revision = "0006f_document_count_index"
down_revision = "0006d_search_vector"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_document_space_visibility_deleted",
        "document",
        ["space_id", "visibility", "deleted_at", "title"],
    )


def downgrade() -> None:
    op.drop_index("ix_document_space_visibility_deleted", table_name="document")
