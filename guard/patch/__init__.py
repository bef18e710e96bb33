"""guard patch: turn fixable findings into reviewable, idempotent edits."""
