"""Rules: one module per rule, each with a stable code (GRD001...), message, severity and docs page."""
