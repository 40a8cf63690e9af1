"""Emergency mode: emergencies, blockages, evacuation orders, per-person events, snapshots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the emergency tables."""
    op.create_table(
        "emergencies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("mine", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tunnel", sa.String(64), nullable=False),
        sa.Column("offset_m", sa.Float, nullable=False),
        sa.Column("declared_by", sa.String(100), nullable=False),
        sa.Column("declared_at", sa.Float, nullable=False, index=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("ended_by", sa.String(100), nullable=True),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
    )
    op.create_table(
        "emergency_blockages",
        sa.Column("emergency", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tunnel", sa.String(64), nullable=False),
        sa.Column("from_m", sa.Float, nullable=False),
        sa.Column("to_m", sa.Float, nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("blocked_by", sa.String(100), nullable=False),
        sa.Column("blocked_at", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cleared_by", sa.String(100), nullable=True),
        sa.Column("cleared_at", sa.Float, nullable=True),
    )
    op.create_table(
        "emergency_orders",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("emergency", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
    )
    op.create_table(
        "emergency_events",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("emergency", sa.String(64), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(80), nullable=True),
    )
    op.create_index("ix_emergency_events_emergency_ts", "emergency_events", ["emergency", "ts"])
    op.create_table(
        "emergency_snapshots",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("emergency", sa.String(64), nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_emergency_snapshots_emergency_ts", "emergency_snapshots", ["emergency", "ts"]
    )


def downgrade() -> None:
    """Drop the emergency tables."""
    for name in (
        "emergency_snapshots",
        "emergency_events",
        "emergency_orders",
        "emergency_blockages",
        "emergencies",
    ):
        op.drop_table(name)
