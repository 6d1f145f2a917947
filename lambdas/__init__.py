"""chatstack's Lambda functions: thin handlers over a pure contract and plain domain code.

Layers, innermost first:

- ``lambdas.contract``: the wire contract — error codes, input validation, output frames.
  No boto3, no sockets.
- ``lambdas.domain``: users, tokens, connections, messages and fan-out, over boto3 clients that
  are passed in.
- ``lambdas.settings`` reads every ``CHATSTACK_*`` variable; ``lambdas.runtime`` builds the clients
  once per Lambda container.
- ``lambdas.handlers``: one module per function, each a few lines of parse → call → shape.
"""
