"""Loads the suite's plugin: its options, hooks and fixtures (see ``conformance.plugin``)."""

from conformance.plugin import (  # noqa: F401 - pytest finds hooks and fixtures by name
    conformance_timeout,
    connect,
    http,
    peer,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    record_latencies,
    rest,
    signing_key,
    target,
    user,
)
