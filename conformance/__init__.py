"""chatstack's conformance suite: black-box checks of CONTRACT.md against any stage.

It talks to a stage only through its REST and WebSocket URLs and never imports the code under
test. Run it with ``chatstack conform`` or ``pytest conformance/``; see ``plugin`` for options.
"""
