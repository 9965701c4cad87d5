"""Indexes for two pages read under load: a person's previous login, a campaign's progress

Revision ID: 0016_read_path_indexes
Revises: 0015_blob_key_indexes
Create Date: 2026-12-07 08:00:00.000000

- ``audit_event (actor_id, action, at)``: the home page asks for the login before the current
  one; by actor alone, it sorted everything the person ever did (3,000 events per campaign).
- ``request_item (request_id, status, required)``: the campaign board counts each request's
  items by status from the index alone, without reading the 4,000 rows of 500 requests.
"""

from alembic import op

revision = "0016_read_path_indexes"
down_revision = "0015_blob_key_indexes"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_audit_event_actor_action_at", "audit_event", ["actor_id", "action", "at"]),
    ("ix_request_item_progress", "request_item", ["request_id", "status", "required"]),
)


# Not in a batch: on SQLite a batch may copy the table, and the audit trail's triggers that
# keep it append-only would not come along.
def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
