"""gunicorn settings for Samverkan: ``gunicorn "app:create_app()"`` from the repository root
reads this file by itself (or name it with ``-c``). Command-line flags override it.

Settings come from the environment so the systemd unit and the container set them without
editing this file:

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``): nginx proxies to it; never bind publicly.
- ``GUNICORN_WORKERS`` (default ``2 × cores + 1``, at most 8), ``GUNICORN_THREADS`` (default 1),
  ``GUNICORN_TIMEOUT`` (seconds, default 60).
- ``PROMETHEUS_MULTIPROC_DIR``: the directory the workers write their metrics to (see
  ``coordination/ops/metrics.py``). It is emptied when the server starts, and each exited
  worker is marked dead so its live gauges go while its counters still count.

Each request is logged once, as JSON, by the app (``coordination.ops.logs``); gunicorn's own
access log is off.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 8))
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# Fresh workers now and then: a slow leak never grows for weeks. Jitter keeps them from all
# restarting at once.
max_requests = 5000
max_requests_jitter = 500
# The app reads the body (and refuses bodies past MAX_CONTENT_LENGTH); these bound the headers.
limit_request_line = 8190
limit_request_field_size = 8190
# nginx on the same host sets X-Forwarded-Proto; the app's ProxyFix (PROXY_FIX_HOPS) reads
# the rest.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The app logs every request as one JSON line (coordination.ops.logs); gunicorn's access log
# would repeat it with the query string, which may hold personal data. gunicorn's own few lines
# (start, stop, a worker timeout) stay plain text on stderr.
accesslog = None
errorlog = "-"


def _metrics_directory() -> Path | None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(directory) if directory else None


def on_starting(server: Any) -> None:
    """Before the first worker: counters of an earlier run must not be summed into this one."""
    directory = _metrics_directory()
    if directory is None:
        return
    if directory.exists():
        for entry in directory.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (restart, crash, max_requests): drop its live gauges from the sums."""
    if _metrics_directory() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
