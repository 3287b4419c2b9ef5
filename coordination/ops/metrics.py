"""``GET /metrics``: Prometheus text format, for the monitoring an IT department already runs.

The metrics are prometheus-client's. Under gunicorn every worker is its own process, so
``PROMETHEUS_MULTIPROC_DIR`` must name an empty directory before the server starts
(``gunicorn.conf.py`` wipes it at start and marks each exited worker dead): each worker then
writes its values to files there and a scrape sums them. The scheduler is a separate process
with its own directory (``METRICS_SCHEDULER_DIR``), merged into the same answer. Without the
variable (development, tests) the values live in the one process.

Labels carry route patterns (``/councils/<int:council_id>``), job ids and outcomes, never a
URL, an id or anything typed by a user. Some values are read from the database at scrape time
(outbox depth, the scheduler's last run): each package registers them with ``register_gauge``.

The endpoint answers only a bearer token equal to ``METRICS_TOKEN`` (constant-time compare);
without that setting it is switched off (404).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordination.db import get_database, utcnow
from coordination.models import JobRun
from coordination.registry import GAUGES

bp = Blueprint("ops_metrics", __name__)

# prometheus-client writes each process's values to files in this folder from the first metric
# on (below, at import): a CLI command or a container started without the folder must not fail.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)


# Seconds: most pages answer in milliseconds; the long tail is what an operator looks for.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0)

REQUESTS = Counter(
    "samverkan_http_requests",
    "HTTP requests answered, by method, route pattern and status.",
    ["method", "route", "status"],
)
REQUEST_LATENCY = Histogram(
    "samverkan_http_request_duration_seconds",
    "Time from the request's first hook to its response, by method and route pattern.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
RECORDS_REVEALED = Counter(
    "samverkan_records_revealed",
    "Records passed through secrecy.records.reveal, by verdict (revealed or withheld).",
    ["verdict"],
)
AUDIT_APPEND = Histogram(
    "samverkan_audit_append_duration_seconds",
    "Time to insert one audit event and its object index rows (no lock; chained later).",
    buckets=LATENCY_BUCKETS,
)
AUDIT_EVENTS = Counter("samverkan_audit_events_appended", "Audit events recorded (inserted).")
AUDIT_CHAINED = Counter(
    "samverkan_audit_events_chained", "Audit events linked into the hash chain by the sequencer."
)
AUDIT_CHAIN_LAG = Histogram(
    "samverkan_audit_chain_lag_seconds",
    "Time from an audit event's recording to its chaining (durable but not yet chained).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
JOB_RUNS = Counter(
    "samverkan_job_runs", "Scheduler job runs, by job id and outcome.", ["job", "outcome"]
)
JOB_DURATION = Histogram(
    "samverkan_job_duration_seconds",
    "Scheduler job run time, by job id.",
    ["job"],
    buckets=JOB_BUCKETS,
)
OUTBOX_FAILURES = Counter(
    "samverkan_outbox_delivery_failures",
    "E-mail deliveries that failed, by result (deferred: retried later; failed: given up).",
    ["result"],
)


@dataclass(frozen=True)
class ScrapeGauge:
    """A value read from the database when Prometheus scrapes."""

    name: str
    documentation: str
    read: Callable[[Session], float]


def register_gauge(app: Flask, gauge: ScrapeGauge) -> None:
    """Upper layers add what only they can count (the outbox belongs to meetings)."""
    GAUGES.add(app, gauge)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_scheduler_last_run_age_seconds",
            "Seconds since the scheduler last started a job run (any job).",
            _last_run_age,
        ),
    )


def _last_run_age(session: Session) -> float:
    last = session.scalar(select(func.max(JobRun.started_at)))
    if last is None:
        return float("nan")
    return (utcnow() - last).total_seconds()


# --- Recording -----------------------------------------------------------------------------------


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    REQUEST_LATENCY.labels(method, route).observe(seconds)


def count_reveal(revealed: int, withheld: int) -> None:
    if revealed:
        RECORDS_REVEALED.labels("revealed").inc(revealed)
    if withheld:
        RECORDS_REVEALED.labels("withheld").inc(withheld)


@contextmanager
def timed_audit_append(events: int) -> Iterator[None]:
    started = time.perf_counter()
    yield
    AUDIT_APPEND.observe(time.perf_counter() - started)
    AUDIT_EVENTS.inc(events)


def observe_chaining(lags: list[float]) -> None:
    """The sequencer chained events that had waited ``lags`` seconds each."""
    AUDIT_CHAINED.inc(len(lags))
    for lag in lags:
        AUDIT_CHAIN_LAG.observe(lag)


def observe_job(job_id: str, outcome: str, seconds: float) -> None:
    JOB_RUNS.labels(job_id, outcome).inc()
    JOB_DURATION.labels(job_id).observe(seconds)


def count_outbox_failure(gave_up: bool) -> None:
    OUTBOX_FAILURES.labels("failed" if gave_up else "deferred").inc()


# --- Scraping ------------------------------------------------------------------------------------


class _MergedDirectories(Collector):
    """The multiprocess files of the web workers and the scheduler, summed as one."""

    def __init__(self, directories: list[Path]) -> None:
        self._directories = directories

    def collect(self) -> Iterator[Metric]:
        files = [str(f) for d in self._directories if d.is_dir() for f in d.glob("*.db")]
        return iter(MultiProcessCollector.merge(files, accumulate=True))


class _DatabaseGauges(Collector):
    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        gauges = GAUGES.of(self._app)
        with get_database(self._app).session_factory() as session:
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.documentation)
                family.add_metric([], gauge.read(session))
                yield family


def exposition(app: Flask) -> bytes:
    """The whole answer: this installation's process metrics and the database gauges."""
    own = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if own:
        registry = CollectorRegistry(auto_describe=False)
        directories = [Path(own)]
        if app.config.get("METRICS_SCHEDULER_DIR"):
            directories.append(Path(app.config["METRICS_SCHEDULER_DIR"]))
        registry.register(_MergedDirectories(directories))
        processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    database = CollectorRegistry(auto_describe=False)
    database.register(_DatabaseGauges(app))
    return processes + generate_latest(database)


def _authorised() -> bool:
    expected = current_app.config.get("METRICS_TOKEN")
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return (
        scheme.lower() == "bearer"
        and bool(presented)
        and hmac.compare_digest(presented.strip().encode(), str(expected).encode())
    )


@bp.route("/metrics")
def metrics() -> Response:
    if not current_app.config.get("METRICS_TOKEN"):
        return Response("not found\n", status=404, mimetype="text/plain")
    if not _authorised():
        return Response(
            "bearer token required\n",
            status=401,
            mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    response = Response(exposition(current_app._get_current_object()))  # type: ignore[attr-defined]
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response
