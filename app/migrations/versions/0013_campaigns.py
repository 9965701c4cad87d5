"""Campaigns: client tags, campaigns and their clients

Revision ID: 0013_campaigns
Revises: 0012_conversations
Create Date: 2026-12-06 16:45:32.618676
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_campaigns"
down_revision = "0012_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_tag",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_client_tag_client_id_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_tag")),
        sa.UniqueConstraint("client_id", "tag", name=op.f("uq_client_tag_client_id")),
    )
    with op.batch_alter_table("client_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_tag_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_client_tag_tag"), ["tag"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("template", sa.String(length=200), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("space_kind", sa.String(length=16), nullable=False),
        sa.Column("space_name", sa.String(length=200), nullable=False),
        sa.Column("client_filter", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_campaign_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    op.create_table(
        "campaign_client",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_client_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_campaign_client_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["document_request.id"],
            name=op.f("fk_campaign_client_request_id_document_request"),
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_campaign_client_space_id_space")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_client")),
        sa.UniqueConstraint(
            "campaign_id", "client_id", name=op.f("uq_campaign_client_campaign_id")
        ),
    )
    with op.batch_alter_table("campaign_client", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_client_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaign_client_client_id"), ["client_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_client_client_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_client_campaign_id"))

    op.drop_table("campaign_client")
    op.drop_table("campaign")
    with op.batch_alter_table("client_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_tag_tag"))
        batch_op.drop_index(batch_op.f("ix_client_tag_client_id"))

    op.drop_table("client_tag")
