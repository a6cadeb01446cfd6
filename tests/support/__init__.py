"""Shared test helpers: factories, staff steps, race and real-stack tools (no tests here)."""
