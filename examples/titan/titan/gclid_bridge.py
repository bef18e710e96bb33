"""GCLID capture bridge (psycopg2 + execute_values)."""

from psycopg2.extras import execute_values


def capture_gclids(conn, captures):
    with conn.cursor() as cur:
        execute_values(
            cur,
            "INSERT INTO titan.gclid_captures (gclid, job_st_id) VALUES %s",
            [(c["gclid"], c.get("jobId")) for c in captures],
        )
    conn.commit()
