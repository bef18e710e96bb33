"""Customer portal: bookings create jobs through SQLAlchemy."""

from sqlalchemy import text

BOOK_JOB = text(
    """
    INSERT INTO titan.jobs (st_id, customer_name, job_status, scheduled_at)
    VALUES (:st_id, :customer_name, 'booked', :scheduled_at)
    """
)


def book_job(connection, booking):
    """Store a portal booking (``connection`` is a SQLAlchemy Connection)."""
    connection.execute(
        BOOK_JOB,
        {"st_id": booking["id"], "customer_name": booking["name"], "scheduled_at": booking["slot"]},
    )
