"""Alembic environment: runs on the connection wuzhuan hands it (see workflow/store/schema.py)."""

from alembic import context

from workflow.store.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    from workflow.store.engine import make_engine

    connection = make_engine().connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
