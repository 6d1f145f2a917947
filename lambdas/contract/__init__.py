"""The chatstack wire contract (see conformance/CONTRACT.md): pure code, no I/O."""
