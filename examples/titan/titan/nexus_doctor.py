"""Doctor repair path: re-creates jobs that went missing. It sets created_at explicitly, to the repair time:
the explicit form of the same bug (the job was created years ago)."""

REPAIR_JOB = """INSERT INTO titan.jobs (st_id, job_status, scheduled_at, created_at)
VALUES (%s, 'repaired', %s, now())"""


def repair_job(conn, job):
    conn.execute(REPAIR_JOB, (job["id"], job.get("scheduledOn")))
