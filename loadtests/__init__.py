"""Locust load tests of a chatstack stage: many WebSocket users through the broadcast path.

``locust -f loadtests/locustfile.py`` — see ``loadtests/README.md``. The modules that Locust does
not need (``metrics``, ``thresholds``, ``provision``) import neither locust nor gevent, so tests and
tools can use them in an ordinary process.
"""
