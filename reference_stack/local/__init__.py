"""The local stage: the real handlers behind an emulated API Gateway, with moto as AWS.

Modules:

- ``config``: every setting of the stage, from ``CHATSTACK_*`` variables and the command line.
- ``events``: the event and context objects API Gateway and Lambda hand to a handler (pure).
- ``invoker``: runs handlers in a worker pool, one structured log line per invocation.
- ``embedded_aws``: moto's server on a free loopback port, tables from ``stack.json``.
- ``rest_api``, ``websocket_api``, ``web``: the REST API, the WebSocket API with its
  ``@connections`` management API and limits, the static web app.
- ``stream_poller``: tails the Messages stream into the broadcaster, retrying like Lambda.
- ``ttl_sweeper``: deletes expired items, which moto never does.
- ``stage``: puts it all together.
"""
