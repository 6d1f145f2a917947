"""Unit tests: pure code, no network."""
