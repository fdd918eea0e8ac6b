"""One module per framework, each with ``create_app(*, push_count, sse_count)``.

Every app serves the endpoints described in :mod:`bench.endpoints`.
"""
