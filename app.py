"""Samverkan's application factory. Nothing imports this module; it assembles the packages.

``flask run`` finds ``create_app`` here from the repository root; gunicorn serves
``"app:create_app()"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

import demo
from coordination import cli as coordination_cli
from coordination import db, web
from coordination.accounts import jobs as accounts_jobs
from coordination.accounts import views as auth
from coordination.accounts.providers import views as identity_providers
from coordination.accounts.scim import views as scim_views
from coordination.admin import lifecycle as admin_lifecycle
from coordination.admin import views as admin
from coordination.api import openapi as api_openapi
from coordination.audit import api as audit_api
from coordination.config import load_settings
from coordination.councils import api as coordination_api
from coordination.councils import views as councils
from coordination.logreview import views as logreview
from coordination.ops import faults as ops_faults
from coordination.ops import health as ops_health
from coordination.ops import logs as ops_logs
from coordination.ops import metrics as ops_metrics
from coordination.tokens import views as tokens
from meetings import cli as meetings_cli
from meetings import jobs as meetings_jobs
from meetings.agenda import api as meetings_api
from meetings.agenda import views as meetings_views
from meetings.calendar import views as meetings_calendar_views
from meetings.casesync import views as meetings_sync_views
from meetings.network import api as meetings_network_api
from meetings.network import views as meetings_network_views
from meetings.notifications import views as views_notifications
from meetings.schedules import views as views_schedules
from minutes import jobs as minutes_jobs
from minutes.actions import api as actions_api
from minutes.actions import views as views_actions
from minutes.assessments import api as assessments_api
from minutes.assessments import cli as assessments_cli
from minutes.assessments import jobs as assessments_jobs
from minutes.assessments import views as assessments_views
from minutes.plans import api as plans_api
from minutes.plans import jobs as plans_jobs
from minutes.plans import views as plans_views
from minutes.reports import views as minutes_report_views
from minutes.workspace import api as minutes_api
from minutes.workspace import approval_views as minutes_approval_views
from minutes.workspace import views as minutes_views
from secrecy import audit_scope as secrecy_audit_scope
from secrecy import cli as secrecy_cli
from secrecy import jobs as secrecy_jobs
from secrecy.agerules import api as agerules_api
from secrecy.agerules import views as agerules_views
from secrecy.backup import cli as backup_cli
from secrecy.disclosure import api as disclosures_api
from secrecy.disclosure import views as disclosure_views
from secrecy.duplicates import api as duplicates_api
from secrecy.duplicates import views as duplicates_views
from secrecy.records import api as secrecy_api
from secrecy.records import views as secrecy_views
from secrecy.requests import api as requests_api
from secrecy.requests import views as request_views

ROOT = Path(__file__).resolve().parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    # The instance folder holds local config, the development database and generated keys;
    # deployments may put it on a persistent volume.
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("SAMVERKAN_INSTANCE_PATH") or None,
    )
    register_config(app, test_config)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_jobs(app)
    return app


def register_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.update(load_settings(app.instance_path, test_config))
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "coordination" / "translations")
    )
    if app.config["ENV"] == "testing":
        app.config["TESTING"] = True


def register_logging(app: Flask) -> None:
    # JSON lines on stderr in every process (web workers, scheduler, CLI); request lines carry
    # route patterns and ids only, never personal data (DESIGN rule 7).
    ops_logs.configure_logging()


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    web.init_app(app)
    register_operations(app)


def register_operations(app: Flask) -> None:
    """Probes, metrics, request logs and fault answers (coordination.ops). After the web floor:
    the request-log and body-limit hooks put themselves before every other request hook."""
    ops_faults.init_app(app)
    ops_logs.init_app(app)
    ops_health.init_app(app)
    ops_metrics.init_app(app)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    identity_providers.init_app(app)
    app.register_blueprint(councils.bp)
    app.register_blueprint(admin.bp)
    admin_lifecycle.init_app(app)
    scim_views.init_app(app)
    app.register_blueprint(logreview.bp)
    tokens.init_app(app)
    secrecy_views.init_app(app)
    disclosure_views.init_app(app)
    request_views.init_app(app)
    agerules_views.init_app(app)
    duplicates_views.init_app(app)
    secrecy_audit_scope.init_app(app)
    meetings_views.init_app(app)
    meetings_calendar_views.init_app(app)
    views_schedules.init_app(app)
    views_notifications.init_app(app)
    meetings_sync_views.init_app(app)
    meetings_network_views.init_app(app)
    minutes_views.init_app(app)
    minutes_approval_views.init_app(app)
    views_actions.init_app(app)
    minutes_report_views.init_app(app)
    plans_views.init_app(app)

    assessments_views.init_app(app)
    register_api(app)


def register_api(app: Flask) -> None:
    """/api/v1: each package declares its own operations; the OpenAPI document is built from
    all of them."""
    api_openapi.init_app(app)
    coordination_api.init_app(app)
    audit_api.init_app(app)
    secrecy_api.init_app(app)
    disclosures_api.init_app(app)
    requests_api.init_app(app)
    agerules_api.init_app(app)
    duplicates_api.init_app(app)
    meetings_api.init_app(app)
    meetings_network_api.init_app(app)
    minutes_api.init_app(app)
    actions_api.init_app(app)
    plans_api.init_app(app)

    assessments_api.init_app(app)


def register_jobs(app: Flask) -> None:
    """Every package's sweeps, run by the one scheduler process (``flask scheduler run``)."""
    accounts_jobs.init_app(app)
    secrecy_jobs.init_app(app)
    meetings_jobs.init_app(app)
    minutes_jobs.init_app(app)
    plans_jobs.init_app(app)

    assessments_jobs.init_app(app)


def register_commands(app: Flask) -> None:
    coordination_cli.init_app(app)
    secrecy_cli.init_app(app)
    backup_cli.init_app(app)
    meetings_cli.init_app(app)
    assessments_cli.init_app(app)
    demo.init_app(app)
