"""Versioned, extension-style SQL for the guard schema (guard--X.Y.sql and upgrade scripts)."""
