"""Compatibility surfaces for clients written against other shapes, kept apart from /api/v1."""
