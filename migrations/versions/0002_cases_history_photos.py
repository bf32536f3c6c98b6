"""Cases with their geometry, status history and photos.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

from inspection.geotypes import GeometryWKB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("doc_number", sa.String(length=100), nullable=True),
        sa.Column("batch", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("verified_on", sa.Date(), nullable=True),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("geom", GeometryWKB("GEOMETRY"), nullable=False),
        sa.Column("point_lon", sa.Float(), nullable=False),
        sa.Column("point_lat", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("measures", sa.Text(), nullable=True),
        sa.Column("party", sa.String(length=100), nullable=True),
        sa.Column("structure", sa.String(length=32), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=True),
        sa.Column("building_area_m2", sa.Float(), nullable=True),
        sa.Column("demolished_area_m2", sa.Float(), nullable=True),
        sa.Column("enforcement_doc_no", sa.String(length=100), nullable=True),
        sa.Column("land_type", sa.String(length=64), nullable=True),
        sa.Column("crop", sa.String(length=64), nullable=True),
        sa.Column("parcel_no", sa.String(length=64), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *[
            sa.Column(n, sa.Float(), nullable=True)
            for n in ("min_lon", "min_lat", "max_lon", "max_lat")
        ],
        sa.ForeignKeyConstraint(["town_id"], ["grid_cells.id"], name="fk_cases_town_id_grid_cells"),
        sa.ForeignKeyConstraint(
            ["village_id"], ["grid_cells.id"], name="fk_cases_village_id_grid_cells"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["grid_cells.id"], name="fk_cases_group_id_grid_cells"
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["users.id"], name="fk_cases_responsible_id_users"
        ),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], name="fk_cases_reporter_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("client_id", name="uq_cases_client_id"),
    )
    op.create_index("ix_cases_category", "cases", ["category"])
    op.create_index("ix_cases_found_on", "cases", ["found_on"])
    op.create_index("ix_cases_group_id", "cases", ["group_id"])
    op.create_index("ix_cases_village_id", "cases", ["village_id"])
    op.create_index("ix_cases_responsible_id", "cases", ["responsible_id"])
    op.create_index("ix_cases_kind_status", "cases", ["kind", "status"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_geom_gist", "cases", ["geom"], postgresql_using="gist")

    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name="fk_status_changes_actor_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_status_changes_case_id_cases", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_status_changes"),
    )
    op.create_index("ix_status_changes_case_id", "status_changes", ["case_id"])
    op.create_index("ix_status_changes_on", "status_changes", ["on"])
    op.create_index("ix_status_changes_to_status", "status_changes", ["to_status"])

    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status_change_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=10), nullable=False),
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
            ["case_id"], ["cases.id"], name="fk_photos_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["status_change_id"],
            ["status_changes.id"],
            name="fk_photos_status_change_id_status_changes",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name="fk_photos_uploaded_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.UniqueConstraint("case_id", "sha256", name="uq_photos_case_sha256"),
    )
    op.create_index("ix_photos_case_id", "photos", ["case_id"])


def downgrade() -> None:
    op.drop_table("photos")
    op.drop_table("status_changes")
    op.drop_table("cases")
