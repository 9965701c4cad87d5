"""OCR: the resumable upload that writes a version's searchable copy

Revision ID: 0006a_ocr_searchable_upload
Revises: 0006
Create Date: 2026-12-02 05:30:00

The upload is recorded before any byte of the copy is written, so that a worker
killed while writing it leaves an upload the next attempt finishes or frees, never
an orphaned blob.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006a_ocr_searchable_upload"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("searchable_upload_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.drop_column("searchable_upload_id")
