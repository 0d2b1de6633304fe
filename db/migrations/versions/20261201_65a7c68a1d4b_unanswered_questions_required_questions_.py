"""unanswered questions, required questions, sides shown

Projects get `required_questions` (the per-reply questions Submit insists on; none for existing projects) and
existing projects without a question list get the questions the annotate page has always asked. Judgements get
`sides_swapped` (the order the annotator saw; NULL for rows written before it was recorded). Per-reply answers
were already nullable: from now on an unanswered question is stored as NULL.

Revision ID: 65a7c68a1d4b
Revises: 296948a34300
Create Date: 2026-12-01 19:22:58.236385
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "65a7c68a1d4b"
down_revision: str | Sequence[str] | None = "296948a34300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASKED_BEFORE = ["consistency", "persona_used", "contradiction"]  # what pages/1_Annotate.py asked until now


def upgrade() -> None:
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sides_swapped", sa.Boolean(), nullable=True))

    with op.batch_alter_table("projects", schema=None) as batch_op:
        # server_default fills the existing rows; the model's Python default covers new ones
        batch_op.add_column(sa.Column("required_questions", sa.JSON(), nullable=False, server_default="[]"))

    projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("questions", sa.JSON))
    connection = op.get_bind()
    for project_id, questions in connection.execute(sa.select(projects.c.id, projects.c.questions)).all():
        if isinstance(questions, str):  # some drivers hand JSON back as text
            questions = json.loads(questions)
        if not questions:
            connection.execute(
                projects.update().where(projects.c.id == project_id).values(questions=list(ASKED_BEFORE))
            )


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("required_questions")

    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.drop_column("sides_swapped")
