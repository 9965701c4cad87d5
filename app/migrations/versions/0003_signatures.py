"""signature requests, signers, signer certificates, e-mailed signing codes

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signer_certificate",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("key_pem", sa.LargeBinary(), nullable=False),
        sa.Column("certificate_pem", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_signer_certificate_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signer_certificate")),
        sa.UniqueConstraint(
            "fingerprint_sha256", name=op.f("uq_signer_certificate_fingerprint_sha256")
        ),
    )
    with op.batch_alter_table("signer_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signer_certificate_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "signature_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("current_version_number", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("certify", sa.Boolean(), nullable=False),
        sa.Column("any_order", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("stamp_page", sa.Integer(), nullable=False),
        sa.Column("stamp_position", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archive_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_signature_request_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_signature_request_document_id_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_request")),
    )
    with op.batch_alter_table("signature_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signature_request_archive_expires_at"),
            ["archive_expires_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_signature_request_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signature_request_status"), ["status"], unique=False)

    op.create_table(
        "signature_code",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["signature_request.id"],
            name=op.f("fk_signature_code_request_id_signature_request"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_signature_code_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_code")),
    )
    with op.batch_alter_table("signature_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signature_code_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_signature_code_user_id"), ["user_id"], unique=False)

    op.create_table(
        "signature_request_signer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("signing_order", sa.Integer(), nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("certificate_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("certificate_subject", sa.String(length=300), nullable=True),
        sa.Column("authorised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("result_sha256", sa.String(length=64), nullable=True),
        sa.Column("result_version_number", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["signature_request.id"],
            name=op.f("fk_signature_request_signer_request_id_signature_request"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_signature_request_signer_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature_request_signer")),
        sa.UniqueConstraint(
            "request_id", "user_id", name=op.f("uq_signature_request_signer_request_id")
        ),
    )
    with op.batch_alter_table("signature_request_signer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signature_request_signer_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_signature_request_signer_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("signature_request_signer", ("request_id", "user_id")),
        ("signature_code", ("request_id", "user_id")),
        ("signature_request", ("archive_expires_at", "document_id", "status")),
        ("signer_certificate", ("user_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
