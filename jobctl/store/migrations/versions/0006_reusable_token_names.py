"""A revoked token's name may be given to a new token: names are unique among active tokens only.

The table-wide unique constraint on ``api_tokens.name`` becomes a partial unique index over the
rows with ``revoked_at IS NULL`` (both SQLite and Postgres have partial indexes), so revoked
tokens keep their rows and names as history and a new token can take the name again.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIVE = sa.text("revoked_at IS NULL")
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
"""Names for SQLite's unnamed constraints, so the batch rebuild can drop the one on ``name``."""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("api_tokens", naming_convention=NAMING, recreate="always") as batch:
            batch.drop_constraint("uq_api_tokens_name", type_="unique")
    else:
        for constraint in sa.inspect(bind).get_unique_constraints("api_tokens"):
            if constraint["column_names"] == ["name"]:
                op.drop_constraint(constraint["name"], "api_tokens", type_="unique")
    op.create_index(
        "ux_api_tokens_active_name", "api_tokens", ["name"], unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE
    )
