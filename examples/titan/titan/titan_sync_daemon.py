"""Long-running sync daemon: polls ServiceTitan and upserts jobs and estimates."""

import time

from titan import tables

UPSERT_JOB = (
    "INSERT INTO titan.jobs (st_id, customer_name, job_status, invoice_total, scheduled_at) "
    "VALUES (%(st_id)s, %(customer)s, %(status)s, %(total)s, %(scheduled)s) "
    "ON CONFLICT (st_id) DO UPDATE SET job_status = EXCLUDED.job_status, invoice_total = EXCLUDED.invoice_total"
)


def sync_job(conn, job):
    conn.execute(
        UPSERT_JOB,
        {
            "st_id": job["id"],
            "customer": job["customerName"],
            "status": job["jobStatus"],
            "total": job.get("invoiceTotal", 0),
            "scheduled": job.get("scheduledOn"),
        },
    )


def sync_estimates(conn, estimates):
    sql = f"INSERT INTO {tables.ESTIMATES} (st_id, job_st_id, sold_by_id, total, sold_on) VALUES (%s, %s, %s, %s, %s)"
    with conn.cursor() as cur:
        for est in estimates:
            cur.execute(sql, (est["id"], est["jobId"], est.get("soldById"), est["total"], est.get("soldOn")))


def run_forever(conn, client, interval=60):  # pragma: no cover - daemon loop
    while True:
        for job in client.changed_jobs():
            sync_job(conn, job)
        sync_estimates(conn, client.changed_estimates())
        conn.commit()
        time.sleep(interval)
