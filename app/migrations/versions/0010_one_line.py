"""One line of migrations from here on: merge the seven branches that grew from 0001

Revision ID: 0010_one_line
Revises: 0002, 0003, 0004, 0005, 0006e_ocr_heartbeat, 0006f_document_count_index,
    0009_search_audience
Create Date: 2026-12-06 15:45:00

The features of 0002-0009 were written side by side, each on 0001 (or 0006), so
the history had seven heads and ``alembic upgrade head`` refused to choose. Their
tables do not overlap and any order gives the same schema, so this revision only
joins them: a database that ``upgrade heads`` brought to all seven (every portal
so far) moves here without running anything, and every later migration goes on
this single head. Downgrading goes back to the seven branches.
"""

revision = "0010_one_line"
down_revision = (
    "0002",
    "0003",
    "0004",
    "0005",
    "0006e_ocr_heartbeat",
    "0006f_document_count_index",
    "0009_search_audience",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
