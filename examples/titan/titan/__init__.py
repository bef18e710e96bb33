"""Titan: ServiceTitan -> Postgres warehouse sync (example repo scanned by `guard scan`)."""
