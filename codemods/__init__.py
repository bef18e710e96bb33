"""libcst transforms used by ``guard patch``."""
