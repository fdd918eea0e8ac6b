"""WebSocket tests, in process (the end-to-end ones are ``tests/e2e/test_ws_*_e2e.py``).

- ``test_api``: the ``WebSocket`` API a responder uses: handshake, close, send,
  receive, media.
- ``test_routing``: handshakes through middleware, routes, sinks, default
  responders and error handlers.
- ``test_conformance``: spec details an external conformance suite found missing
  (``close(None)``, spec versions, accept headers, send-only media handlers).
- ``test_lost_connection``: a client that leaves, on current and pre-2.4 ASGI
  servers; background tasks, delivery order, leaks.
- ``test_send_timeout``: a client that stops reading (event streams share the
  timeout and are tested here too).
- ``test_shutdown``: going away with 1001 (event streams end with their
  terminator, tested here too).
"""
