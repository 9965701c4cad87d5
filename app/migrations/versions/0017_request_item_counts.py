"""Each request's items counted by status on the request itself

Revision ID: 0017_request_item_counts
Revises: 0016_read_path_indexes
Create Date: 2026-12-07 10:30:00.000000

A campaign's board, its API and its exports show, for each of hundreds of clients, how many
items are pending, sent, accepted or not applicable; counting the items of 500 requests on every
view was most of the board's query. The counts live on ``document_request`` now, set when the
items are made and kept by the one service that moves an item; existing requests are counted
here once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_request_item_counts"
down_revision = "0016_read_path_indexes"
branch_labels = None
depends_on = None

item = sa.table(
    "request_item",
    sa.column("request_id", sa.String()),
    sa.column("status", sa.String()),
    sa.column("required", sa.Boolean()),
)
#: column -> the items it counts
COUNTS = {
    "items_total": sa.true(),
    "items_pending": item.c.status == "pending",
    "items_submitted": item.c.status == "submitted",
    "items_accepted": item.c.status == "accepted",
    "items_not_applicable": item.c.status == "not_applicable",
    "items_missing": sa.and_(item.c.status == "pending", item.c.required.is_(True)),
}
request = sa.table(
    "document_request",
    sa.column("id", sa.String()),
    *(sa.column(column, sa.Integer()) for column in COUNTS),
)


def upgrade() -> None:
    for column in COUNTS:
        op.add_column(
            "document_request",
            sa.Column(column, sa.Integer(), nullable=False, server_default="0"),
        )
    op.get_bind().execute(
        sa.update(request).values(
            {
                column: sa.select(sa.func.count())
                .where(item.c.request_id == request.c.id, condition)
                .scalar_subquery()
                for column, condition in COUNTS.items()
            }
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("document_request") as batch:
        for column in reversed(list(COUNTS)):
            batch.drop_column(column)
