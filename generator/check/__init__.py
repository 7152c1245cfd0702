"""Checks on rendered manifests. ``schemas``: strict validation against pinned upstream schemas."""
