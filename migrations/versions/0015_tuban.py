"""卫片图斑: batches, their change polygons and the cases each covers.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from inspection.geotypes import GeometryWKB

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None

BBOX = ("min_lon", "min_lat", "max_lon", "max_lat")


def upgrade() -> None:
    op.create_table(
        "tuban_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["town_id"], ["grid_cells.id"], name="fk_tuban_batches_town_id_grid_cells"
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["users.id"],
            name="fk_tuban_batches_imported_by_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tuban_batches"),
        sa.UniqueConstraint("name", name="uq_tuban_batches_name"),
    )
    op.create_index("ix_tuban_batches_town_id", "tuban_batches", ["town_id"])

    op.create_table(
        "tuban",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("repaired", sa.Boolean(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review", sa.String(length=20), nullable=False),
        sa.Column("conclusion", sa.String(length=20), nullable=True),
        sa.Column("approval_no", sa.String(length=100), nullable=True),
        sa.Column("evidence_note", sa.Text(), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_on", sa.Date(), nullable=True),
        sa.Column("evidence_client_id", sa.String(length=64), nullable=True),
        sa.Column("fix_lon", sa.Float(), nullable=True),
        sa.Column("fix_lat", sa.Float(), nullable=True),
        sa.Column("fix_accuracy_m", sa.Float(), nullable=True),
        sa.Column("fix_distance_m", sa.Float(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *[sa.Column(n, sa.Float(), nullable=True) for n in BBOX],
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["tuban_batches.id"],
            name="fk_tuban_batch_id_tuban_batches",
            ondelete="CASCADE",
        ),
        *[
            sa.ForeignKeyConstraint([c], ["grid_cells.id"], name=f"fk_tuban_{c}_grid_cells")
            for c in ("town_id", "village_id", "group_id")
        ],
        *[
            sa.ForeignKeyConstraint(
                [c], ["users.id"], name=f"fk_tuban_{c}_users", ondelete="SET NULL"
            )
            for c in ("assignee_id", "checked_by_id", "reviewed_by_id")
        ],
        sa.PrimaryKeyConstraint("id", name="pk_tuban"),
        sa.UniqueConstraint("batch_id", "number", name="uq_tuban_batch_number"),
    )
    for column in ("batch_id", "town_id", "village_id", "group_id", "assignee_id", "due_on"):
        op.create_index(f"ix_tuban_{column}", "tuban", [column])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_tuban_geom_gist", "tuban", ["geom"], postgresql_using="gist")

    op.create_table(
        "tuban_cases",
        sa.Column("tuban_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tuban_id"], ["tuban.id"], name="fk_tuban_cases_tuban_id_tuban", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_tuban_cases_case_id_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tuban_id", "case_id", name="pk_tuban_cases"),
    )
    op.create_index("ix_tuban_cases_case_id", "tuban_cases", ["case_id"])

    op.create_table(
        "tuban_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tuban_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("gps_lon", sa.Float(), nullable=True),
        sa.Column("gps_lat", sa.Float(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tuban_id"], ["tuban.id"], name="fk_tuban_photos_tuban_id_tuban", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name="fk_tuban_photos_uploaded_by_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tuban_photos"),
        sa.UniqueConstraint("tuban_id", "sha256", name="uq_tuban_photos_tuban_sha256"),
    )
    op.create_index("ix_tuban_photos_tuban_id", "tuban_photos", ["tuban_id"])


def downgrade() -> None:
    op.drop_table("tuban_photos")
    op.drop_table("tuban_cases")
    op.drop_table("tuban")
    op.drop_table("tuban_batches")
