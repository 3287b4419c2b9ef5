"""Samverkan's application factory. Nothing imports this module; it assembles the packages.

``flask run`` finds ``create_app`` here from the repository root; gunicorn serves
``"app:create_app()"``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from coordination import cli as coordination_cli
from coordination import db, web
from coordination.api import audit as audit_api
from coordination.api import openapi as api_openapi
from coordination.api import views as coordination_api
from coordination.config import load_settings
from coordination.db import LOCAL_ZONE
from coordination.views import admin, auth, councils, logreview, tokens
from meetings import api as meetings_api
from meetings import cli as meetings_cli
from meetings import demo as meetings_demo
from meetings import scheduler, views_notifications, views_schedules
from meetings import views as meetings_views
from meetings import views_sync as meetings_sync_views
from minutes import api as minutes_api
from minutes import api_actions as actions_api
from minutes import demo as minutes_demo
from minutes import jobs as minutes_jobs
from minutes import views as minutes_views
from minutes import views_actions
from minutes import views_reports as minutes_report_views
from secrecy import api as secrecy_api
from secrecy import api_disclosures as disclosures_api
from secrecy import audit_cli as secrecy_audit_cli
from secrecy import audit_scope as secrecy_audit_scope
from secrecy import cli as secrecy_cli
from secrecy import demo as secrecy_demo
from secrecy import disclosure_views
from secrecy import views as secrecy_views

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
    # Request lines carry paths only; paths never carry personal data (DESIGN rule 7).
    logging.getLogger("samverkan").setLevel(logging.INFO)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    web.init_app(app)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(auth.bp)
    app.register_blueprint(councils.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(logreview.bp)
    tokens.init_app(app)
    secrecy_views.init_app(app)
    disclosure_views.init_app(app)
    secrecy_audit_scope.init_app(app)
    meetings_views.init_app(app)
    views_schedules.init_app(app)
    views_notifications.init_app(app)
    meetings_sync_views.init_app(app)
    minutes_views.init_app(app)
    views_actions.init_app(app)
    minutes_report_views.init_app(app)
    register_api(app)


def register_api(app: Flask) -> None:
    """/api/v1: each package declares its own operations; the OpenAPI document is built from
    all of them."""
    api_openapi.init_app(app)
    coordination_api.init_app(app)
    audit_api.init_app(app)
    secrecy_api.init_app(app)
    disclosures_api.init_app(app)
    meetings_api.init_app(app)
    minutes_api.init_app(app)
    actions_api.init_app(app)


def register_jobs(app: Flask) -> None:
    """Upper layers' sweeps, run by the one scheduler process (``flask scheduler run``)."""
    hourly = CronTrigger(minute=20, timezone=LOCAL_ZONE)
    scheduler.register_jobs(
        app,
        scheduler.JobSpec(
            "minutes.action_due_reminders",
            minutes_jobs.action_due_reminders,
            hourly,
            scheduler.HOURLY_GRACE,
        ),
        scheduler.JobSpec(
            "minutes.action_overdue_reminders",
            minutes_jobs.action_overdue_reminders,
            hourly,
            scheduler.HOURLY_GRACE,
        ),
        scheduler.JobSpec(
            "minutes.approval_reminders",
            minutes_jobs.approval_reminders,
            hourly,
            scheduler.HOURLY_GRACE,
        ),
    )


def register_commands(app: Flask) -> None:
    coordination_cli.init_app(app)
    secrecy_cli.init_app(app)
    secrecy_audit_cli.init_app(app)
    meetings_cli.init_app(app)
    coordination_cli.register_demo_loader(app, secrecy_demo.load_secrecy_demo)
    coordination_cli.register_demo_loader(app, meetings_demo.load_meetings_demo)
    coordination_cli.register_demo_loader(app, minutes_demo.load_minutes_demo)
