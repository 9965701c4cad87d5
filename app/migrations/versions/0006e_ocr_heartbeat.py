"""OCR: when a result's worker last finished a step

Revision ID: 0006e_ocr_heartbeat
Revises: 0006a_ocr_searchable_upload
Create Date: 2026-12-02 06:30:00

A result left running without a step for longer than any step may take belongs to a
worker that died; a periodic job sends it again (the embedded broker has no
redelivery of its own).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006e_ocr_heartbeat"
down_revision = "0006a_ocr_searchable_upload"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
