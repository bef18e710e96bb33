"""SMS ingestion: bulk COPY into call_logs (psycopg 3)."""


def load_sms_batch(conn, messages):
    with conn.cursor() as cur, cur.copy("COPY titan.call_logs (caller, direction, duration_s) FROM STDIN") as copy:
        for msg in messages:
            copy.write_row((msg["from"], "sms", 0))
