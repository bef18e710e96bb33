"""One-shot migration of historical ServiceTitan jobs into titan.jobs.

This is the script that caused the April 3 phantom: the INSERT never names created_at, so all 10,461
historical jobs were stamped with the minute the script ran.
"""

import logging

log = logging.getLogger(__name__)

INSERT_JOB = """
    INSERT INTO titan.jobs (st_id, customer_name, job_status, lead_source, invoice_total, scheduled_at)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (st_id) DO NOTHING
"""


def migrate_jobs(conn, jobs):
    """Copy ServiceTitan job payloads into the warehouse."""
    log.info("inserting %d jobs into the warehouse", len(jobs))
    with conn.cursor() as cur:
        cur.executemany(
            INSERT_JOB,
            [
                (
                    job["id"],
                    job["customerName"],
                    job["jobStatus"],
                    job.get("leadSource"),
                    job.get("invoiceTotal", 0),
                    job.get("scheduledOn"),
                )
                for job in jobs
            ],
        )
    conn.commit()
