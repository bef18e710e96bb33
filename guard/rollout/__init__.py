"""Join what the code does (the scan) with what the database sees: protect, roll out, stale writers."""
