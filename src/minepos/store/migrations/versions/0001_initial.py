"""Initial schema: users, gateways, people, audit log, alarms, events, positions, dead letters.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _BigId, primary_key=True, autoincrement=True)


def upgrade() -> None:
    """Create every table of the first schema."""
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "gateways",
        _id(),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(64), nullable=True, unique=True),
        sa.Column("personnel_number", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tag", sa.String(64), nullable=True),
        sa.Column("person", sa.String(64), nullable=True),
        sa.Column("zone", sa.String(64), nullable=True),
        sa.Column("anchor", sa.String(64), nullable=True),
        sa.Column("raised_at", sa.Float, nullable=False, index=True),
        sa.Column("acked_by", sa.String(100), nullable=True),
        sa.Column("acked_at", sa.Float, nullable=True),
        sa.Column("ack_comment", sa.Text, nullable=True),
        sa.Column("cleared_at", sa.Float, nullable=True, index=True),
        sa.Column("details", sa.JSON, nullable=False),
    )
    _create_event_tables()


def _create_event_tables() -> None:
    op.create_table(
        "zone_transitions",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("person", sa.String(64), nullable=True),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
    )
    op.create_index("ix_zone_transitions_person_ts", "zone_transitions", ["person", "ts"])
    op.create_table(
        "lamp_events",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("person", sa.String(64), nullable=True),
        sa.Column("event", sa.String(16), nullable=False),
    )
    op.create_index("ix_lamp_events_tag_ts", "lamp_events", ["tag", "ts"])
    op.create_table(
        "positions",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("tunnel", sa.String(64), nullable=False),
        sa.Column("offset_m", sa.Float, nullable=False),
        sa.Column("x", sa.Float, nullable=False),
        sa.Column("y", sa.Float, nullable=False),
        sa.Column("z", sa.Float, nullable=False),
        sa.Column("uncertainty_m", sa.Float, nullable=False),
        sa.Column("zone", sa.String(64), nullable=True),
    )
    op.create_index("ix_positions_person_ts", "positions", ["person", "ts"])
    op.create_table(
        "headcount_history",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("underground", sa.Integer, nullable=False),
        sa.Column("by_level", sa.JSON, nullable=False),
        sa.Column("by_zone", sa.JSON, nullable=False),
    )
    op.create_table(
        "dead_letters",
        _id(),
        sa.Column("ts", sa.Float, nullable=False, index=True),
        sa.Column("gateway", sa.String(100), nullable=True, index=True),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("decoder", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop everything the first schema made."""
    for name in (
        "dead_letters",
        "headcount_history",
        "positions",
        "lamp_events",
        "zone_transitions",
        "alarms",
        "audit_log",
        "people",
        "gateways",
        "users",
    ):
        op.drop_table(name)
