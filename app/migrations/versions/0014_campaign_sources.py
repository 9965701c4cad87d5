"""Campaigns: what a CSV or ZIP left out, and each signature campaign client's PDF and request

Revision ID: 0014_campaign_sources
Revises: 0013_campaigns
Create Date: 2026-12-06 18:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_campaign_sources"
down_revision = "0013_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notices", sa.JSON(), nullable=True))

    with op.batch_alter_table("campaign_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("document_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("signature_request_id", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_client_document_id_document"),
            "document",
            ["document_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_client_signature_request_id_signature_request"),
            "signature_request",
            ["signature_request_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_client", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_client_signature_request_id_signature_request"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_client_document_id_document"), type_="foreignkey"
        )
        batch_op.drop_column("signature_request_id")
        batch_op.drop_column("document_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("notices")
