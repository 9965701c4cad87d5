"""A person's logins indexed: the home page asks for the one before the current session

Revision ID: 0016_audit_login_index
Revises: 0015_blob_key_indexes
Create Date: 2026-12-07 08:00:00.000000
"""

from alembic import op

revision = "0016_audit_login_index"
down_revision = "0015_blob_key_indexes"
branch_labels = None
depends_on = None

NAME = "ix_audit_event_actor_action_at"


# Not in a batch: on SQLite a batch may copy the table, and the audit trail's triggers that
# keep it append-only would not come along.
def upgrade() -> None:
    op.create_index(NAME, "audit_event", ["actor_id", "action", "at"], unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="audit_event")
