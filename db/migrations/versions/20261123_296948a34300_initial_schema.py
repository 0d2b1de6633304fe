"""initial schema

Revision ID: 296948a34300
Revises:
Create Date: 2026-11-23 10:58:03.298346
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "296948a34300"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "dialogues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("persona", sa.JSON(), nullable=False),
        sa.Column("partner_persona", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("gold_label", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("split", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogues")),
        sa.UniqueConstraint("external_id", name=op.f("uq_dialogues_external_id")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("guidelines", sa.Text(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("annotators_per_item", sa.Integer(), nullable=False),
        sa.Column("gold_settings", sa.JSON(), nullable=False),
        sa.Column("system_names", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "systems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("run_dir", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_systems")),
        sa.UniqueConstraint("name", name=op.f("uq_systems_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialogue_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("selected_index", sa.Integer(), nullable=True),
        sa.Column("selected_sentence", sa.Text(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("contradiction", sa.JSON(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dialogue_id"], ["dialogues.id"], name=op.f("fk_responses_dialogue_id_dialogues")),
        sa.ForeignKeyConstraint(["system_id"], ["systems.id"], name=op.f("fk_responses_system_id_systems")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("dialogue_id", "system_id", name=op.f("uq_responses_dialogue_id")),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_dialogue_id"), ["dialogue_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_responses_system_id"), ["system_id"], unique=False)

    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("dialogue_id", sa.Integer(), nullable=False),
        sa.Column("response_a_id", sa.Integer(), nullable=False),
        sa.Column("response_b_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_gold", sa.Boolean(), nullable=False),
        sa.Column("gold_answer", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["dialogue_id"], ["dialogues.id"], name=op.f("fk_comparisons_dialogue_id_dialogues")),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_comparisons_project_id_projects")),
        sa.ForeignKeyConstraint(
            ["response_a_id"], ["responses.id"], name=op.f("fk_comparisons_response_a_id_responses")
        ),
        sa.ForeignKeyConstraint(
            ["response_b_id"], ["responses.id"], name=op.f("fk_comparisons_response_b_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comparisons")),
    )
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comparisons_project_id"), ["project_id"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comparison_id"], ["comparisons.id"], name=op.f("fk_assignments_comparison_id_comparisons")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_assignments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("user_id", "comparison_id", name=op.f("uq_assignments_user_id")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_comparison_id"), ["comparison_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_user_id"), ["user_id"], unique=False)

    op.create_table(
        "judgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("comparison_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("preference", sa.String(length=16), nullable=True),
        sa.Column("consistency_a", sa.Integer(), nullable=True),
        sa.Column("consistency_b", sa.Integer(), nullable=True),
        sa.Column("persona_used_a", sa.Integer(), nullable=True),
        sa.Column("persona_used_b", sa.Integer(), nullable=True),
        sa.Column("contradiction_a", sa.Boolean(), nullable=True),
        sa.Column("contradiction_b", sa.Boolean(), nullable=True),
        sa.Column("fluency_a", sa.Integer(), nullable=True),
        sa.Column("fluency_b", sa.Integer(), nullable=True),
        sa.Column("engagingness_a", sa.Integer(), nullable=True),
        sa.Column("engagingness_b", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comparison_id"], ["comparisons.id"], name=op.f("fk_judgements_comparison_id_comparisons")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["judgements.id"], name=op.f("fk_judgements_supersedes_id_judgements")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_judgements_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgements")),
    )
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_judgements_comparison_id"), ["comparison_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_judgements_supersedes_id"), ["supersedes_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_judgements_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("judgements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_judgements_user_id"))
        batch_op.drop_index(batch_op.f("ix_judgements_supersedes_id"))
        batch_op.drop_index(batch_op.f("ix_judgements_comparison_id"))

    op.drop_table("judgements")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_user_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_comparison_id"))

    op.drop_table("assignments")
    with op.batch_alter_table("comparisons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comparisons_project_id"))

    op.drop_table("comparisons")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responses_system_id"))
        batch_op.drop_index(batch_op.f("ix_responses_dialogue_id"))

    op.drop_table("responses")
    op.drop_table("users")
    op.drop_table("systems")
    op.drop_table("projects")
    op.drop_table("dialogues")
    op.drop_table("audit_log")
