"""Trust audit log (table created by an Alembic migration)."""


def audit(conn, actor, action):
    conn.execute("INSERT INTO titan.trust_audit (actor, action) VALUES (%s, %s)", (actor, action))
