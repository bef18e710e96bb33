# Python 2 era sync script, kept "just in case". It no longer parses under Python 3.
import psycopg2

def sync(conn, rows):
    cur = conn.cursor()
    for r in rows:
        cur.execute("INSERT INTO titan.jobs (st_id, customer_name, job_status) VALUES (%s, %s, %s)", r)
    print "synced %d rows" % len(rows)
