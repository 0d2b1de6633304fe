"""projects.queue_order: the order the annotation queue serves items in

Every existing project keeps the order it had (the stored item position): "as_imported".

Revision ID: queue_order
Revises: auth_login_throttle
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "queue_order"
down_revision: str | Sequence[str] | None = "auth_login_throttle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue_order", sa.String(length=16), nullable=False, server_default="as_imported")
        )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("queue_order")
