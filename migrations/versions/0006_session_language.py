"""The candidate's language on a test session: the tablet's own words in it, then in French.

Revision ID: 0006_session_language
Revises: 0005_offices_and_logins
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_session_language"
down_revision: str | None = "0005_offices_and_logins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.drop_column("language")
