"""Metric history: the table has no created_at, so these writes are inventory only."""

RECORD_METRIC = "INSERT INTO titan.metric_history (metric, observed_on, value) VALUES (%s, %s, %s)"


def record_metric(conn, metric, observed_on, value):
    conn.execute(RECORD_METRIC, (metric, observed_on, value))
