"""The scheduler refuses to start with mail settings the notification jobs cannot use.

``flask scheduler`` itself (run, jobs, run-job) is the ground floor's (``coordination.cli``);
this package adds its start-up check to it.
"""

from __future__ import annotations

import click
from flask import Flask

from coordination.cli import register_scheduler_check
from meetings.notifications.mail import MailConfigurationError, MailSettings


def init_app(app: Flask) -> None:
    register_scheduler_check(app, check_mail_settings)


def check_mail_settings(app: Flask) -> None:
    try:
        MailSettings.from_config(app.config)
    except MailConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
