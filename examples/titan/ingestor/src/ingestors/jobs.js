// ServiceTitan jobs -> titan.jobs, the Node ETL (v2_ingestor). Pages through the Entity API and upserts.
import { pool, JOBS_TABLE } from '../db.js';

const UPSERT_JOB = `
  INSERT INTO ${JOBS_TABLE} (st_id, customer_name, job_status, lead_source, invoice_total, scheduled_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (st_id) DO UPDATE SET job_status = EXCLUDED.job_status, invoice_total = EXCLUDED.invoice_total`;

export async function ingestJobs(page) {
  const client = await pool.connect();
  try {
    for (const job of page.data) {
      // job.createdOn (the ServiceTitan creation time) is fetched but never written: created_at becomes now()
      await client.query(UPSERT_JOB, [
        job.id, job.customerName, job.jobStatus, job.leadSource, job.total, job.scheduledOn,
      ]);
    }
  } finally {
    client.release();
  }
}
