"""A generic loader: table and columns come from the caller, so only a reviewer can tell what it writes."""


def load_rows(conn, table, columns, rows):
    placeholders = ", ".join(["%s"] * len(columns))
    query = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    with conn.cursor() as cur:
        cur.executemany(query, rows)
