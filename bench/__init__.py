"""lanner's benchmark suite: lanner against a bare ASGI app, Falcon and Starlette.

Run ``python -m bench --full`` (``make bench``) for the figures in
``docs/benchmarks.md``, or ``python -m bench --quick`` (``make bench-quick``) for
a smoke run that keeps the harness working. See ``docs/benchmarks.md`` for what
is measured and how.
"""
