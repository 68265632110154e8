"""Offices, server-side login sessions, forced password change, demo expiry, code throttling,
login lock per (account, address).

Every existing user and test session is moved to a default office (``Direction territoriale``);
existing administrators stay national (no office). Sessions already opened on a tablet are
marked as bound to it (``code_used_at``).

Revision ID: 0005_offices_and_logins
Revises: 0002_recording_types
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005_offices_and_logins"
down_revision: str | None = "0002_recording_types"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_OFFICE = "Direction territoriale"


def upgrade() -> None:
    office = op.create_table(
        "office",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.bulk_insert(office, [{"id": 1, "name": DEFAULT_OFFICE, "created_at": datetime.now(UTC)}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval('office_id_seq', (SELECT max(id) FROM office))")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key("fk_app_user_office_id", "office", ["office_id"], ["id"])
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.alter_column("must_change_password", server_default=None)
    op.execute("UPDATE app_user SET office_id = 1 WHERE role <> 'admin'")

    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE test_session SET office_id = 1")
    op.execute(
        "UPDATE test_session SET code_used_at = started_at "
        "WHERE started_at IS NOT NULL AND state NOT IN ('abandoned')"
    )
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.alter_column("office_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key("fk_test_session_office_id", "office", ["office_id"], ["id"])

    op.create_table(
        "login_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index("ix_login_session_user", ["user_id"], unique=False)

    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("throttled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.alter_column("throttled", server_default=None)

    op.create_table(
        "code_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("code_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_code_attempt_ip_at", ["ip", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("code_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_code_attempt_ip_at")
    op.drop_table("code_attempt")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_column("throttled")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index("ix_login_session_user")
    op.drop_table("login_session")
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.drop_constraint("fk_test_session_office_id", type_="foreignkey")
        batch_op.drop_column("code_used_at")
        batch_op.drop_column("office_id")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint("fk_app_user_office_id", type_="foreignkey")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("office_id")
    op.drop_table("office")
