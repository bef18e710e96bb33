"""guard bounds: metrics declared in config, checked against fixed ranges and their own history."""
