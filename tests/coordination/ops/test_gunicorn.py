"""The real server: gunicorn with the repository's gunicorn.conf.py, two workers, multiprocess
metrics. The workers log JSON request lines, /metrics sums both workers, and a stale metrics
file of an earlier run is gone."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ROOT, process_env

TOKEN = "gunicorn-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our loopback server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_gunicorn_workers_log_json_and_share_their_metrics(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left from an earlier run")
    port = free_port()
    env = process_env(database_url, tmp_path / "instance")
    env.update(
        SAMVERKAN_METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and config
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        assert not (metrics_dir / "counter_999999.db").exists()
        for _ in range(20):
            assert get(f"{base}/healthz")[0] == 200
        assert get(f"{base}/metrics")[0] == 401
        status, body = get(f"{base}/metrics", TOKEN)
        assert status == 200
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name == "samverkan_http_requests_total"
            and sample.labels["route"] == "/healthz"
        )
        assert counted >= 21  # every /healthz above, whichever worker answered it
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("logger") == "samverkan.request"]
    assert len(requests) >= 22
    assert {line["route"] for line in requests} == {"/healthz", "/metrics"}
    assert all(len(line["request_id"]) == 32 for line in requests)
