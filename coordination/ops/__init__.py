"""Running Samverkan in production: probes (``health``), Prometheus metrics (``metrics``),
JSON logs with a request id (``logs``), and the answers to failures around the app
(``faults``: database down, oversized streamed bodies, proxies). The probes' blueprints are
named ``ops_*``: ``coordination.web.hooks.is_probe_request`` keeps the session machinery away
from them. ``app.register_operations`` sets them up; docs/operations.md tells the operator how
to use them all.
"""
