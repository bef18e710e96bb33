"""Estimate and invoice creation endpoints."""

from titan.tables import INVOICES


def create_invoice(conn, invoice):
    conn.execute(
        "INSERT INTO " + INVOICES + " (st_id, job_st_id, total) VALUES (%s, %s, %s)",
        (invoice["id"], invoice["jobId"], invoice["total"]),
    )


def create_invoice_with_source_time(conn, invoice):
    """The right way: the source system's creation time is passed explicitly."""
    conn.execute(
        "INSERT INTO titan.invoices (st_id, job_st_id, total, created_at) VALUES (%s, %s, %s, %s)",
        (invoice["id"], invoice["jobId"], invoice["total"], invoice["createdOn"]),
    )
