"""Recover and watch: burst detection, reversible quarantine, freshness and coverage, read from the database."""
