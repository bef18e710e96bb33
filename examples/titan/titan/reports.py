"""Read-only reports. Nothing here writes; the prose below mentions INSERT but is not SQL."""

import logging

log = logging.getLogger(__name__)

WEEKLY_REVENUE = """
    SELECT date_trunc('week', scheduled_at) AS week, sum(invoice_total)
    FROM titan.jobs
    WHERE job_status = 'completed'
    GROUP BY 1 ORDER BY 1
"""


def weekly_revenue(conn):
    """Insert into the dashboard the weekly revenue (the word INSERT here is prose)."""
    log.warning("Insert into titan.jobs skipped: nothing to do")
    return conn.execute(WEEKLY_REVENUE).fetchall()
