"""Onboarding: the firm's catalogue of services, onboardings, and a person's checked national id

Revision ID: 0011_onboarding
Revises: 0010_one_line
Create Date: 2026-12-06 15:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_onboarding"
down_revision = "0010_one_line"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("space_kind", sa.String(length=16), nullable=False),
        sa.Column("space_name", sa.String(length=200), nullable=False),
        sa.Column("request_template", sa.String(length=200), nullable=True),
        sa.Column("engagement_template", sa.Text(), nullable=False),
        sa.Column("fees", sa.String(length=300), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
        sa.UniqueConstraint("key", name=op.f("uq_service_key")),
    )
    op.create_table(
        "onboarding",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reached", sa.String(length=16), nullable=True),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=True),
        sa.Column("tax_id", sa.String(length=32), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("addendum", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("intake_space_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("identity", sa.JSON(), nullable=True),
        sa.Column("identity_documents", sa.JSON(), nullable=False),
        sa.Column("confirmed_fields", sa.JSON(), nullable=True),
        sa.Column("document_number", sa.String(length=32), nullable=True),
        sa.Column("approvals", sa.JSON(), nullable=False),
        sa.Column("engagement_document_id", sa.String(length=32), nullable=True),
        sa.Column("engagement_signature_request_id", sa.String(length=32), nullable=True),
        sa.Column("spaces", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_onboarding_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["engagement_document_id"],
            ["document.id"],
            name=op.f("fk_onboarding_engagement_document_id_document"),
        ),
        sa.ForeignKeyConstraint(
            ["engagement_signature_request_id"],
            ["signature_request.id"],
            name=op.f("fk_onboarding_engagement_signature_request_id_signature_request"),
        ),
        sa.ForeignKeyConstraint(
            ["intake_space_id"], ["space.id"], name=op.f("fk_onboarding_intake_space_id_space")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_onboarding_owner_id_user")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_onboarding_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding")),
    )
    with op.batch_alter_table("onboarding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_onboarding_client_id"), ["client_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_onboarding_engagement_signature_request_id"),
            ["engagement_signature_request_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_onboarding_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_onboarding_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_onboarding_document_number"), ["document_number"], unique=False
        )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("national_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("national_id")
    op.drop_table("onboarding")
    op.drop_table("service")
