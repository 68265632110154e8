"""Recordings keep the audio type the server checked, not the one the tablet declared.

Before this revision a recording's ``mime_type`` was whatever the upload declared (a tablet
could store ``text/html`` or ``text/javascript``). The type is now derived from the container
sniffed from the bytes; this data migration rewrites the stored types the same way.

Revision ID: 0002_recording_types
Revises: 0001_initial
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002_recording_types"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# audio.intake.MIME_TYPES as of this revision (a migration must not change with later code)
MIME_TYPES = {
    "webm": "audio/webm",
    "matroska": "audio/x-matroska",
    "ogg": "audio/ogg",
    "mp4": "audio/mp4",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "aac": "audio/aac",
}


def upgrade() -> None:
    recording = sa.table(
        "recording", sa.column("container", sa.String), sa.column("mime_type", sa.String)
    )
    for container, mime_type in MIME_TYPES.items():
        op.execute(
            recording.update()
            .where(recording.c.container == container)
            .values(mime_type=mime_type)
        )
    op.execute(
        recording.update()
        .where(recording.c.container.not_in(list(MIME_TYPES)))
        .values(mime_type="application/octet-stream")
    )


def downgrade() -> None:
    # the declared types are not worth restoring: they were the hole this revision closes
    pass
