"""3CX call log ingestion (psycopg.sql composition)."""

from psycopg import sql

CALL_LOG_TABLE = sql.Identifier("titan", "call_logs")


def record_calls(conn, calls):
    query = sql.SQL("INSERT INTO {} (caller, direction, duration_s) VALUES (%s, %s, %s)").format(CALL_LOG_TABLE)
    with conn.cursor() as cur:
        for call in calls:
            cur.execute(query, (call["caller"], call["direction"], call["duration"]))
