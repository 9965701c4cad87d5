"""Previews of document versions: thumbnails, page images, DXF as SVG, video posters

Revision ID: 0008_previews
Revises: 0001
Create Date: 2026-12-02 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_previews"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_preview",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("blob_key", sa.String(length=128), nullable=True),
        sa.Column("media_type", sa.String(length=40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=40), nullable=True),
        sa.Column("error_detail", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_version.id"],
            name=op.f("fk_document_preview_version_id_document_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_preview")),
        sa.UniqueConstraint("version_id", "variant", name=op.f("uq_document_preview_version_id")),
    )
    with op.batch_alter_table("document_preview", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_preview_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_document_preview_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("document_preview", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_preview_version_id"))
        batch_op.drop_index(batch_op.f("ix_document_preview_status"))
    op.drop_table("document_preview")
