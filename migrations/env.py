"""Alembic environment: runs on the connection inspection.migrate hands it."""

from alembic import context

# Every package's tables on Base.metadata (cases' models import grid's and accounts').
from inspection import journal  # noqa: F401
from inspection.cases import models  # noqa: F401
from inspection.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through `flask --app app init-db`, which passes a connection.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
