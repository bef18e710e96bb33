"""Table names shared by the writers."""

SCHEMA = "titan"
JOBS = "titan.jobs"
ESTIMATES = "titan.estimates"
INVOICES = "titan.invoices"
