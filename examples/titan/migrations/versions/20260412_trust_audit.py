"""Create titan.trust_audit (Alembic). Its created_at is a server default: same bug class."""

import sqlalchemy as sa
from alembic import op

revision = "20260412_trust_audit"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "trust_audit",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="titan",
    )


def downgrade() -> None:
    op.drop_table("trust_audit", schema="titan")
