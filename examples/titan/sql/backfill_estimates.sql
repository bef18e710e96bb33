-- Backfill estimates from the staging dump. created_at is not selected, so every backfilled estimate
-- gets the minute this file ran.
INSERT INTO titan.estimates (st_id, job_st_id, sold_by_id, total, sold_on)
SELECT s.st_id, s.job_st_id, s.sold_by_id, s.total, s.sold_on
FROM staging.estimates_dump AS s
WHERE s.st_id NOT IN (SELECT st_id FROM titan.estimates);
