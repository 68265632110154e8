"""A test session's rules may be named by a file path: room for a real deployment's path.

``test_session.rules`` holds the rules' name (``cir``) or the path of a rules file
(``PLACEMENT_RULES``); 80 characters refused, on PostgreSQL, the path of a file a few folders
deep, and the test could not start.

Revision ID: 0007_session_rules_path
Revises: 0006_session_language
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_session_rules_path"
down_revision: str | None = "0006_session_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.alter_column(
            "rules", existing_type=sa.String(length=80), type_=sa.String(length=1024)
        )


def downgrade() -> None:
    with op.batch_alter_table("test_session", schema=None) as batch_op:
        batch_op.alter_column(
            "rules", existing_type=sa.String(length=1024), type_=sa.String(length=80)
        )
