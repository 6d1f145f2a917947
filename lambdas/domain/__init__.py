"""Plain domain code: users, tokens, connections, messages, fan-out. Clients are passed in."""
