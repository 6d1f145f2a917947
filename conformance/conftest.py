"""Loads the suite's plugin: its options, hooks and fixtures (see ``conformance.plugin``)."""

from conformance.plugin import (  # noqa: F401 - pytest finds hooks and fixtures by name
    conformance_timeout,
    connect,
    http,
    latency_limits,
    peer,
    pytest_addoption,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_report_teststatus,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    record_latencies,
    record_measurement,
    rest,
    signing_key,
    stage_limits,
    target,
    url_life_stage,
    user,
)
