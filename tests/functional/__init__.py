"""Functional tests: the domain code against a real moto server on 127.0.0.1."""
