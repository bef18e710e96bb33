"""HTTP API handlers that write to the warehouse."""
