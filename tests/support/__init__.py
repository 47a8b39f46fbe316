"""Helpers shared by test folders (fixtures stay in the conftest files)."""
