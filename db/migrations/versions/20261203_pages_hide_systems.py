"""systems.hidden: an admin hides a run from the pages' run lists (its responses and judgements are kept)

Revision ID: pages_hide_systems
Revises: d5c488546a42
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "pages_hide_systems"
down_revision: str | Sequence[str] | None = "d5c488546a42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.drop_column("hidden")
