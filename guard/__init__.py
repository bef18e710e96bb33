"""guard: find, fix, prevent and recover from phantom timestamps in PostgreSQL warehouses."""

__version__ = "0.1.0"
