"""OCR results, full-text search entries and forms filled from documents

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 10:00:00

The search index itself depends on the database: an FTS5 table on SQLite, a GIN
index over a Spanish ``to_tsvector`` on PostgreSQL. Neither is in the models, so
``app.models.ocr.include_in_autogenerate`` hides them from autogenerate.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "form_submission",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["user.id"], name=op.f("fk_form_submission_confirmed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_form_submission_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_form_submission_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["space.id"], name=op.f("fk_form_submission_space_id_space")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_version.id"],
            name=op.f("fk_form_submission_version_id_document_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_submission")),
    )
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_form_submission_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_form_submission_space_id"), ["space_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_form_submission_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_form_submission_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "ocr_result",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=True),
        sa.Column("error_detail", sa.String(length=500), nullable=True),
        sa.Column("engine_version", sa.String(length=60), nullable=True),
        sa.Column("source_kind", sa.String(length=10), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("mean_confidence", sa.Float(), nullable=True),
        sa.Column("searchable_blob_key", sa.String(length=128), nullable=True),
        sa.Column("searchable_error", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_version.id"],
            name=op.f("fk_ocr_result_version_id_document_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocr_result")),
        sa.UniqueConstraint("version_id", name=op.f("uq_ocr_result_version_id")),
    )
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocr_result_status"), ["status"], unique=False)

    op.create_table(
        "search_entry",
        sa.Column("document_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_search_entry_document_id_document")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["document_version.id"],
            name=op.f("fk_search_entry_version_id_document_version"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_search_entry")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_entry_fts USING fts5("
            "document_id UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_search_entry_spanish ON search_entry USING gin "
            "(to_tsvector('spanish', coalesce(title, '') || ' ' || coalesce(body, '')))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_entry_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_search_entry_spanish")
    op.drop_table("search_entry")
    with op.batch_alter_table("ocr_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocr_result_status"))
    op.drop_table("ocr_result")
    with op.batch_alter_table("form_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_submission_version_id"))
        batch_op.drop_index(batch_op.f("ix_form_submission_status"))
        batch_op.drop_index(batch_op.f("ix_form_submission_space_id"))
        batch_op.drop_index(batch_op.f("ix_form_submission_document_id"))
    op.drop_table("form_submission")
