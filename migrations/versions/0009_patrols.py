"""Patrols: the patrol, its batches of fixes as received, its cleaned segments, the cases found on it.

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from inspection.geotypes import GeometryWKB

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

BBOX = ("min_lon", "min_lat", "max_lon", "max_lat")


def upgrade() -> None:
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_format", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("dropped_accuracy", sa.Integer(), nullable=False),
        sa.Column("dropped_speed", sa.Integer(), nullable=False),
        sa.Column("dropped_duplicate_time", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("has_times", sa.Boolean(), nullable=False),
        sa.Column("kept_inside", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *[sa.Column(n, sa.Float(), nullable=True) for n in BBOX],
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_patrols_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["town_id"], ["grid_cells.id"], name="fk_patrols_town_id_grid_cells"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_patrols"),
        sa.UniqueConstraint("client_id", name="uq_patrols_client_id"),
    )
    op.create_index("ix_patrols_user_id", "patrols", ["user_id"])
    op.create_index("ix_patrols_town_id", "patrols", ["town_id"])
    op.create_index("ix_patrols_day", "patrols", ["day"])

    op.create_table(
        "patrol_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name="fk_patrol_batches_patrol_id_patrols",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_batches"),
        sa.UniqueConstraint("patrol_id", "client_id", name="uq_patrol_batches_client"),
    )
    op.create_index("ix_patrol_batches_patrol_id", "patrol_batches", ["patrol_id"])

    op.create_table(
        "patrol_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fixes", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("geom", GeometryWKB("GEOMETRY"), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        *[sa.Column(n, sa.Float(), nullable=True) for n in BBOX],
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrols.id"],
            name="fk_patrol_segments_patrol_id_patrols",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_segments"),
    )
    op.create_index("ix_patrol_segments_patrol_id", "patrol_segments", ["patrol_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_patrol_segments_geom_gist", "patrol_segments", ["geom"], postgresql_using="gist"
        )

    op.create_table(
        "patrol_cases",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("patrol_client_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_patrol_cases_case_id_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name="pk_patrol_cases"),
    )
    op.create_index("ix_patrol_cases_patrol_client_id", "patrol_cases", ["patrol_client_id"])


def downgrade() -> None:
    op.drop_table("patrol_cases")
    op.drop_table("patrol_segments")
    op.drop_table("patrol_batches")
    op.drop_table("patrols")
