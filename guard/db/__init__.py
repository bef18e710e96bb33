"""Database side of guard: connections, the guard schema, protection of tables."""
