"""The grid, users and settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from inspection.geotypes import GeometryWKB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def bbox_columns() -> list[sa.Column]:
    """Bounding-box columns shared by every table with a geometry (lon/lat degrees)."""
    return [
        sa.Column(name, sa.Float(), nullable=True)
        for name in ("min_lon", "min_lat", "max_lon", "max_lat")
    ]


def upgrade() -> None:
    op.create_table(
        "grid_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("boundary", GeometryWKB("MULTIPOLYGON"), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        *bbox_columns(),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["grid_cells.id"], name="fk_grid_cells_parent_id_grid_cells"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_grid_cells"),
        sa.UniqueConstraint("code", name="uq_grid_cells_code"),
    )
    op.create_index("ix_grid_cells_level", "grid_cells", ["level"])
    op.create_index("ix_grid_cells_parent_id", "grid_cells", ["parent_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_grid_cells_boundary_gist", "grid_cells", ["boundary"], postgresql_using="gist"
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("cert_number", sa.String(length=64), nullable=True),
        sa.Column("cert_expires_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_index("ix_users_role", "users", ["role"])

    op.create_table(
        "user_cells",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cell_id"],
            ["grid_cells.id"],
            name="fk_user_cells_cell_id_grid_cells",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_cells_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "cell_id", name="pk_user_cells"),
    )

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("user_cells")
    op.drop_table("users")
    op.drop_table("grid_cells")
