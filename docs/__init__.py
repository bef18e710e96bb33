"""guard's documentation, shipped inside the wheel as ``guard.docs`` so ``guard docs`` and ``guard rule``
work from any installation (help text points there, not at a source checkout)."""
