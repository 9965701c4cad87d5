"""Blob keys indexed: the daily orphan sweep asks which of a batch of keys a row names

Revision ID: 0015_blob_key_indexes
Revises: 0014_campaign_sources
Create Date: 2026-12-06 23:10:00.000000
"""

from alembic import op

revision = "0015_blob_key_indexes"
down_revision = "0014_campaign_sources"
branch_labels = None
depends_on = None

COLUMNS = (
    ("document_version", "blob_key"),
    ("document_preview", "blob_key"),
    ("ocr_result", "searchable_blob_key"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
