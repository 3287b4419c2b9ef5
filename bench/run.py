"""Measure Samverkan on the benchmark data set (``bench/generate.py``).

Starts gunicorn (2 sync workers) on the data set and a baseline (a bare Flask view, one indexed
select, a template of the same size; also 2 gunicorn workers), and loads each page with wrk on
loopback: throughput and p50/p95/p99 latency, the page's throughput as a share of the
baseline's, and the workers' peak memory. Then, in-process: reveal throughput, audit appends
under 32 concurrent writers with the sequencer chaining (``bench/audit.py``), ``flask audit
verify``, and every scheduler job over the whole data
set. Prints a table and writes ``bench/out/<database>/results-<time>.json`` (and
``latest.json``).

    .venv/bin/python bench/run.py                  # everything
    .venv/bin/python bench/run.py --only pages     # pages, baseline and memory only
    .venv/bin/python bench/run.py --profile        # pyinstrument profile of each page too
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit as audit_bench
from common import (
    DEFAULT_DATABASE,
    PASSWORD,
    ROOT,
    VENV_BIN,
    BenchSettings,
    load_settings,
    make_app,
    run_flask,
    say,
)

BENCH = ROOT / "bench"
WRK_SCRIPT = BENCH / "wrk_report.lua"
TARGETS = {
    "page_p95_ms": 150.0,
    "page_share_of_baseline": 0.40,
    "reveal_records_per_s_per_core": 20_000,
    "audit_verify_events_per_s": 100_000,
    "audit_append_events_per_s": 2_000,
    "audit_chain_lag_p99_s": 2.0,
    "job_seconds": 10.0,
}
POLICE = "police1.k01@bench.example"
SECRETARY = "socialservices2.k01@bench.example"
COORDINATOR = "socialservices1.k01@bench.example"


@dataclass
class Page:
    name: str
    path: str
    email: str | None = None  # logged in with a password, or
    token: str | None = None  # an API token
    note: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    result: dict[str, Any] = field(default_factory=dict)


# --- Targets on the data set ---------------------------------------------------------------------


def pick_pages(settings: BenchSettings) -> list[Page]:
    """The pages to load, chosen on the data set (ids and sizes differ with the scale)."""
    from sqlalchemy import func, select

    from coordination.db import get_database, utcnow
    from coordination.models import Child, ChildStatus, Council, User
    from coordination.tokens.services import Scope, create_token, revoke_token, tokens_of
    from meetings.models import AgendaItem, Meeting
    from minutes.models import AgreedAction, Minutes, MinutesStatus
    from secrecy.models import Record

    app = make_app(settings)
    with app.test_request_context():
        session = get_database(app).session_factory()
        council = session.scalars(select(Council).where(Council.code == "B001")).one()
        police = session.scalars(select(User).where(User.email == POLICE)).one()
        counts = (
            select(Record.child_id, func.count(Record.id).label("n"))
            .join(Child, Child.id == Record.child_id)
            .where(Child.council_id == council.id, Child.status == ChildStatus.ACTIVE)
            .group_by(Record.child_id)
            .subquery()
        )
        child_id, records = session.execute(
            select(counts.c.child_id, counts.c.n)
            .where(counts.c.n >= 50)
            .order_by(counts.c.n, counts.c.child_id)
            .limit(1)
        ).one()
        agenda_size = (
            select(AgendaItem.meeting_id, func.count(AgendaItem.id).label("n"))
            .group_by(AgendaItem.meeting_id)
            .subquery()
        )
        workspace_id, workspace_children = session.execute(
            select(Meeting.id, agenda_size.c.n)
            .join(Minutes, Minutes.meeting_id == Meeting.id)
            .join(agenda_size, agenda_size.c.meeting_id == Meeting.id)
            .where(Meeting.council_id == council.id, Minutes.status == MinutesStatus.DRAFT)
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        ).one()
        upcoming_id, upcoming_children = session.execute(
            select(Meeting.id, agenda_size.c.n)
            .join(agenda_size, agenda_size.c.meeting_id == Meeting.id)
            .where(Meeting.council_id == council.id, Meeting.starts_at > utcnow())
            .order_by(Meeting.starts_at)
            .limit(1)
        ).one()
        police_actions = session.scalar(
            select(func.count(AgreedAction.id)).where(
                AgreedAction.responsible_agency_id == police.agency_id
            )
        )
        # Earlier runs' tokens are revoked first: a user holds at most 20 live tokens.
        for earlier in tokens_of(session, police):
            if earlier.name == "bench" and earlier.revoked_at is None:
                revoke_token(session, police, earlier)
        token = create_token(session, police, "bench", {Scope.READ}, lifetime_days=2)
        session.commit()
        has_api = any(rule.rule == "/api/v1/actions" for rule in app.url_map.iter_rules())
        pages = [
            Page(
                "police: my agency's actions",
                "/actions/agency",
                email=POLICE,
                note=f"{police_actions} actions of the agency in all",
            ),
            Page("child page", f"/children/{child_id}", email=SECRETARY, note=f"{records} records"),
            Page(
                "meeting workspace",
                f"/meetings/{workspace_id}/minutes",
                email=COORDINATOR,
                note=f"{workspace_children} children, draft, coordinator",
            ),
            Page(
                "agenda (meeting page)",
                f"/meetings/{upcoming_id}",
                email=SECRETARY,
                note=f"{upcoming_children} children",
            ),
        ]
        if has_api:
            pages.append(
                Page(
                    "API: action list",
                    "/api/v1/actions?scope=agency",
                    token=token.secret,
                    note="police token",
                )
            )
        session.close()
        police_agency = police.agency_id
    get_database(app).engine.dispose()
    pages.append(Page("baseline (bare Flask)", f"/baseline/{police_agency}", note="1 select"))
    return pages


# --- Servers -------------------------------------------------------------------------------------


def start_gunicorn(
    settings: BenchSettings, app_spec: str, port: int, cwd: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.environment()}
    process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except urllib.error.HTTPError:
            return process  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"gunicorn on port {port} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- HTTP ----------------------------------------------------------------------------------------


def log_in(base: str, email: str) -> str:
    """Log in through the real form (CSRF token and all); returns the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if match is None:
        raise SystemExit("no CSRF token on the login page")
    form = {"email": email, "password": PASSWORD, "csrf_token": html.unescape(match.group(1))}
    response = opener.open(f"{base}/login", urllib.parse.urlencode(form).encode())
    if "/login" in response.geturl():
        raise SystemExit(f"could not log in as {email}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def fetch(url: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(request, timeout=120) as response:
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
        body: bytes = response.read()
        return body


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect (to the login page) must fail the check, not be followed


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict[str, Any]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s"]
    command += ["-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [*command, url], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    report: dict[str, Any] = json.loads(next(line for line in output if line.startswith("{")))
    seconds_run = report["duration_us"] / 1e6
    return {
        "requests": report["requests"],
        "requests_per_s": round(report["requests"] / seconds_run, 1),
        "p50_ms": round(report["p50"] / 1000, 1),
        "p95_ms": round(report["p95"] / 1000, 1),
        "p99_ms": round(report["p99"] / 1000, 1),
        "max_ms": round(report["max"] / 1000, 1),
        "errors": report["errors_status"]
        + report["errors_connect"]
        + report["errors_read"]
        + report["errors_timeout"],
    }


def measure_pages(
    settings: BenchSettings, pages: list[Page], args: argparse.Namespace
) -> dict[str, Any]:
    app_server = start_gunicorn(settings, "app:create_app()", args.port, ROOT)
    baseline_server = start_gunicorn(settings, "baseline:create_baseline()", args.port + 1, BENCH)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for page in pages:
            if page.email:
                page.headers = {"Cookie": log_in(base, page.email)}
            elif page.token:
                page.headers = {"Authorization": f"Bearer {page.token}"}
        app_pages = [p for p in pages if not p.path.startswith("/baseline")]
        for page in app_pages:
            page.size = len(fetch(base + page.path, page.headers))
        baseline = next(p for p in pages if p.path.startswith("/baseline"))
        sizes = sorted(p.size for p in app_pages)
        baseline.path += f"?bytes={sizes[len(sizes) // 2]}"
        baseline_base = f"http://127.0.0.1:{args.port + 1}"
        baseline.size = len(fetch(baseline_base + baseline.path, {}))
        # Baseline first and last: the ratio uses their mean, and their spread shows the noise.
        order = [baseline, *app_pages, baseline]
        runs: dict[str, list[dict[str, Any]]] = {}
        for page in order:
            url = (baseline_base if page is baseline else base) + page.path
            say(f"  {page.name}: {args.duration} s with {args.connections} connections")
            wrk(url, page.headers, 2, args.connections)  # warm-up, discarded
            result = wrk(url, page.headers, args.duration, args.connections)
            # Other processes on the machine take CPU from the run: say how busy it was.
            result["load_average_1min"] = round(os.getloadavg()[0], 2)
            runs.setdefault(page.name, []).append(result)
        for page in pages:
            results = runs[page.name]
            page.result = results[0] if len(results) == 1 else _mean(results)
        memory = {
            "app_workers_peak_mib": [
                round(peak_memory_mib(p), 1) for p in worker_pids(app_server.pid)
            ],
            "baseline_workers_peak_mib": [
                round(peak_memory_mib(p), 1) for p in worker_pids(baseline_server.pid)
            ],
        }
    finally:
        stop(app_server)
        stop(baseline_server)
    base_rps = baseline.result["requests_per_s"]
    out: dict[str, Any] = {"memory": memory, "pages": []}
    for page in pages:
        share = page.result["requests_per_s"] / base_rps if base_rps else 0.0
        out["pages"].append(
            {
                "name": page.name,
                "path": re.sub(r"\d+", "<id>", page.path.split("?bytes")[0]),
                "note": page.note,
                "bytes": page.size,
                **page.result,
                "share_of_baseline": round(share, 3),
            }
        )
    if len(runs[baseline.name]) > 1:
        out["baseline_runs_requests_per_s"] = [r["requests_per_s"] for r in runs[baseline.name]]
    return out


def _mean(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in results[0]:
        values = [r[key] for r in results]
        merged[key] = round(sum(values) / len(values), 1) if key != "errors" else sum(values)
    return merged


# --- In-process measurements ---------------------------------------------------------------------


def measure_reveal(settings: BenchSettings) -> dict[str, Any]:
    """reveal_records over every record of one council, in batches of 500, one process."""
    from sqlalchemy import select

    from coordination.db import get_database
    from coordination.models import Child, Council, User
    from secrecy.models import Record
    from secrecy.records.reveal import Revealed, reveal_records

    app = make_app(settings)
    with app.test_request_context():
        session = get_database(app).session_factory()
        viewer = session.scalars(select(User).where(User.email == SECRETARY)).one()
        council = session.scalars(select(Council).where(Council.code == "B001")).one()
        records = list(
            session.scalars(
                select(Record)
                .join(Child, Child.id == Record.child_id)
                .where(Child.council_id == council.id)
                .order_by(Record.id)
            )
        )
        for record in records:
            _ = record.child  # loaded before the clock starts: the pages load them too
        session.commit()
        passed = revealed = 0
        started = time.perf_counter()
        cpu = time.process_time()
        for start in range(0, len(records), 500):
            batch = records[start : start + 500]
            results = reveal_records(session, viewer, batch, purpose="bench")
            session.commit()
            passed += len(batch)
            revealed += sum(isinstance(r, Revealed) for r in results)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        session.close()
    get_database(app).engine.dispose()
    return {
        "records": passed,
        "revealed": revealed,
        "withheld": passed - revealed,
        "seconds": round(seconds, 2),
        "records_per_s": round(passed / seconds),
        "revealed_per_s": round(revealed / seconds),
        "python_cpu_seconds": round(cpu_seconds, 2),
    }


def flask(settings: BenchSettings, *arguments: str) -> tuple[float, str]:
    seconds, result = run_flask(settings, *arguments)
    if result.returncode != 0:
        say(result.stdout + result.stderr)
        raise SystemExit(f"flask {' '.join(arguments)} failed")
    return seconds, result.stdout + result.stderr


def measure_audit_verify(settings: BenchSettings) -> dict[str, Any]:
    from coordination.audit.verify import verify_chain

    with audit_bench.drained_session(settings) as (session, events):
        started = time.perf_counter()
        result = verify_chain(session)
        chain_seconds = time.perf_counter() - started
        session.rollback()
        full_seconds, full, checkpoints = audit_bench.timed_full_verify(session)
    seconds, output = flask(settings, "audit", "verify")
    return {
        "events": events,
        "cli_seconds": round(seconds, 2),
        "cli_events_per_s": round(events / seconds),
        "chain_only_seconds": round(chain_seconds, 2),
        "chain_only_events_per_s": round(events / chain_seconds),
        "in_process_seconds": round(full_seconds, 2),
        "in_process_events_per_s": round(events / full_seconds),
        "ok": result.ok and full.chain.ok and full.index.ok and checkpoints.ok,
        "output": output.strip().splitlines()[-3:],
    }


def measure_jobs(settings: BenchSettings) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from coordination.db import get_database
    from coordination.models import JobRun
    from coordination.scheduler import job_specs

    app = make_app(settings)
    ids = [spec.id for spec in job_specs(app)]
    results = []
    for job_id in ids:
        say(f"  {job_id}")
        seconds, _ = flask(settings, "scheduler", "run-job", job_id)
        with app.app_context():
            session = get_database(app).session_factory()
            run = session.scalars(
                select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id.desc())
            ).first()
            session.close()
        job_seconds = (
            (run.finished_at - run.started_at).total_seconds()
            if run is not None and run.finished_at
            else None
        )
        results.append(
            {
                "job": job_id,
                "cli_seconds": round(seconds, 2),
                "job_seconds": round(job_seconds, 2) if job_seconds is not None else None,
                "items": run.items if run else None,
                "outcome": run.outcome if run else None,
            }
        )
    get_database(app).engine.dispose()
    return results


def profile_pages(settings: BenchSettings, pages: list[Page], folder: Path) -> list[str]:
    """pyinstrument over 20 requests of each page, in-process through the test client."""
    from pyinstrument import Profiler

    app = make_app(settings)
    # The test client takes its scheme from here; over "https" the CSRF check wants a Referer.
    app.config["PREFERRED_URL_SCHEME"] = "http"
    written = []
    for page in pages:
        if page.path.startswith("/baseline"):
            continue
        client = app.test_client()
        headers = {}
        if page.email:
            login = client.get("/login").get_data(as_text=True)
            token = html.unescape(
                re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
            )
            client.post(
                "/login", data={"email": page.email, "password": PASSWORD, "csrf_token": token}
            )
        else:
            headers = {"Authorization": f"Bearer {page.token}"}
        client.get(page.path, headers=headers)  # warm
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(20):
            response = client.get(page.path, headers=headers)
            assert response.status_code == 200, (page.path, response.status_code)  # noqa: S101
        profiler.stop()
        name = re.sub(r"[^a-z]+", "-", page.name.lower()).strip("-")
        path = folder / f"profile-{name}.txt"
        path.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        written.append(str(path.relative_to(ROOT)))
    return written


# --- Report --------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    psql = shutil.which("psql")
    postgres = (
        subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [psql, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if psql
        else "psql not found"
    )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": memory,
        "python": platform.python_version(),
        "postgres_client": postgres,
        "wrk": shutil.which("wrk"),
    }


def data_set(settings: BenchSettings) -> dict[str, Any]:
    from sqlalchemy import text

    from coordination.db import get_database

    state_path = settings.folder / "dataset.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    app = make_app(settings)
    counts = {}
    with get_database(app).engine.connect() as connection:
        for table in (
            "councils",
            "children",
            "meetings",
            "agenda_items",
            "records",
            "disclosures",
            "agreed_actions",
            "action_updates",
            "minutes_entries",
            "audit_events",
        ):
            counts[table] = connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
    get_database(app).engine.dispose()
    return {"scale": state.get("scale"), "months": state.get("months"), "rows": counts}


def print_table(results: dict[str, Any]) -> None:
    pages = results.get("pages", {}).get("pages", [])
    if pages:
        say("")
        say(
            f"{'page':32} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'×base':>6} {'bytes':>8} {'err':>4}  note"
        )
        for row in pages:
            mark = (
                ""
                if row["name"].startswith("baseline")
                or (
                    row["p95_ms"] < TARGETS["page_p95_ms"]
                    and row["share_of_baseline"] >= TARGETS["page_share_of_baseline"]
                )
                else " MISSED"
            )
            say(
                f"{row['name'][:32]:32} {row['requests_per_s']:8.1f} {row['p50_ms']:8.1f} "
                f"{row['p95_ms']:8.1f} {row['p99_ms']:8.1f} {row['share_of_baseline']:6.2f} "
                f"{row['bytes']:8d} {row['errors']:4d}  {row['note']}{mark}"
            )
        memory = results["pages"]["memory"]
        say(f"peak memory per app worker (MiB): {memory['app_workers_peak_mib']}")
    if "reveal" in results:
        r = results["reveal"]
        say(
            f"reveal: {r['records_per_s']} records/s ({r['revealed_per_s']} opened/s; "
            f"{r['records']} records, {r['revealed']} opened, one process)"
        )
    if "audit_append" in results:
        a = results["audit_append"]
        say(
            f"audit append, {a['writers']} writers (each event its own transaction, "
            f"synchronous_commit {a['synchronous_commit']}): {a['events_per_s']} events/s; "
            f"chaining lag p50 {a['lag_p50_s']} s, p99 {a['lag_p99_s']} s, max {a['lag_max_s']} s"
        )
    if "audit_verify" in results:
        v = results["audit_verify"]
        say(
            f"audit verify: {v['in_process_events_per_s']} events/s in process (chain, index "
            f"and checkpoints); flask audit verify {v['cli_events_per_s']} events/s with its "
            f"start-up ({v['events']} events in {v['cli_seconds']} s); chain alone "
            f"{v['chain_only_events_per_s']} events/s"
        )
    for job in results.get("jobs", []):
        say(
            f"job {job['job']:42} {job['job_seconds']} s (cli {job['cli_seconds']} s, "
            f"{job['items']} items, {job['outcome']})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument(
        "--only", choices=("pages", "reveal", "audit", "jobs"), action="append", default=[]
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile per page")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    settings = load_settings(args.database_url)
    wanted = set(args.only) or {"pages", "reveal", "audit", "jobs"}
    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "data_set": data_set(settings),
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "gunicorn_workers": 2,
        },
        "targets": TARGETS,
    }
    say(f"Data set: {json.dumps(results['data_set'])}")
    pages = pick_pages(settings)
    if "pages" in wanted:
        say("Pages (wrk on loopback):")
        results["pages"] = measure_pages(settings, pages, args)
    if args.profile:
        results["profiles"] = profile_pages(settings, pages, settings.folder)
    if "reveal" in wanted:
        say("Reveal throughput...")
        results["reveal"] = measure_reveal(settings)
    if "audit" in wanted:
        say("Audit append (32 writers, the sequencer chaining) and verify...")
        results["audit_append"] = audit_bench.measure_append(settings)
        results["audit_verify"] = measure_audit_verify(settings)
    if "jobs" in wanted:
        say("Scheduler jobs over the whole data set:")
        results["jobs"] = measure_jobs(settings)
    print_table(results)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = settings.folder / f"results-{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    (settings.folder / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    say(f"\nWritten: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
