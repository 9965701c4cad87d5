"""Indexes for a space's list of documents, in both of its orders (for speed)

Revision ID: 0006c_document_list_indexes
Revises: 0006b_search_fts_ids
Create Date: 2026-12-02 06:30:00

A page of a space's documents reads its rows already in order from these indexes and
stops after the page, instead of sorting every document of the space.
"""

from alembic import op

revision = "0006c_document_list_indexes"
down_revision = "0006b_search_fts_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_document_space_title", "document", ["space_id", "title"])
    op.create_index("ix_document_space_updated", "document", ["space_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_document_space_updated", table_name="document")
    op.drop_index("ix_document_space_title", table_name="document")
