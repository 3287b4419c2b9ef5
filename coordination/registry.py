"""Every extension point of the application, declared here and nowhere else.

The layers import downward only, so a lower layer that needs something from an upper one (a
scheduled job, a column on the user statement, a section on the council page, the events an
auditor may see, the children an agenda must carry) offers a registry: the upper layer adds to
it from its ``init_app``, the lower one reads it. Each registry lives on the Flask app (in
``app.extensions`` under its key), so two apps in one process never share one.

Each feature keeps its own ``register_*`` function with the documentation of what to add; this
module is the list of them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from flask import Flask
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from coordination.models import Child, Council, User
    from coordination.notices import NoticeSink
    from coordination.ops.metrics import ScrapeGauge
    from coordination.scheduler import JobSpec

T = TypeVar("T")


@dataclass(frozen=True)
class Registry(Generic[T]):
    """One extension point: what the upper layers added, in the order they added it."""

    key: str

    def add(self, app: Flask, *items: T) -> None:
        app.extensions.setdefault(self.key, []).extend(items)

    def of(self, app: Flask) -> list[T]:
        return list(app.extensions.get(self.key, []))


UserColumn = Callable[[], ColumnElement[Any]]
CouncilPanel = Callable[[Session, "User", "Council"], str | None]
ChildPanel = Callable[[Session, "User", "Child"], str | None]
AuditScope = Callable[[Session, int], ColumnElement[bool]]
StartupCheck = Callable[[Flask], None]
# (session, meeting) -> child ids; the meeting type lives in the meetings package upstairs.
AgendaContributor = Callable[[Session, Any], Iterable[int]]
# (session, viewer, council id, child id, attending agency ids) -> HTML or None: one part of a
# network meeting's projector view, showing only what every attending agency may see.
NetworkProjectionPart = Callable[[Session, "User", int, int, Sequence[int]], str | None]

# Scheduled jobs of every package (coordination.scheduler.register_jobs).
JOBS: Registry[JobSpec] = Registry("samverkan.scheduler_jobs")
# Settings checks before the scheduler starts (coordination.cli.register_scheduler_check).
SCHEDULER_CHECKS: Registry[StartupCheck] = Registry("samverkan.scheduler_startup_checks")
# Values loaded with the signed-in user (coordination.web.registries.register_user_column).
USER_COLUMNS: Registry[tuple[str, UserColumn]] = Registry("samverkan.user_columns")
# The council page's menu and parts, the administration menu (coordination.web.registries).
COUNCIL_SECTIONS: Registry[tuple[str, Any]] = Registry("samverkan.council_sections")
COUNCIL_PANELS: Registry[CouncilPanel] = Registry("samverkan.council_panels")
# Parts of the child page that upper layers serve
# (coordination.web.registries.register_child_panel).
CHILD_PANELS: Registry[ChildPanel] = Registry("samverkan.child_panels")
ADMIN_SECTIONS: Registry[tuple[str, Any]] = Registry("samverkan.admin_sections")
# The log review's menu (coordination.web.registries.register_review_section).
REVIEW_SECTIONS: Registry[tuple[str, Any]] = Registry("samverkan.review_sections")
# What an agency's auditor sees and how event tags are named (coordination.logreview.scopes).
AUDIT_SCOPES: Registry[AuditScope] = Registry("samverkan.audit_scopes")
AUDIT_TAG_LABELS: Registry[Mapping[str, Any]] = Registry("samverkan.audit_tag_labels")
# What upper layers keep about a child outside its records and erase when secrecy shreds them
# at gallring (secrecy.retention.register_erasure): (session, the children shredded now).
Erasure = Callable[[Session, Sequence[int]], None]
ERASURES: Registry[Erasure] = Registry("samverkan.retention_erasures")
# Children every agenda must carry (meetings.agenda.contributors.register_agenda_contributor).
AGENDA_CONTRIBUTORS: Registry[AgendaContributor] = Registry("samverkan.agenda_contributors")
# What /metrics reads from the database at scrape time (coordination.ops.metrics.register_gauge).
GAUGES: Registry[ScrapeGauge] = Registry("samverkan.metrics_gauges")
# Where lower layers' notices are stored as notifications (coordination.notices; the last one
# registered takes them).
NOTICE_SINKS: Registry[NoticeSink] = Registry("samverkan.notice_sinks")
# Notification kinds and their labels for the settings page
# (meetings.notifications.settings.register_notification_kinds).
NOTIFICATION_KINDS: Registry[Mapping[str, Any]] = Registry("samverkan.notification_kinds")
# Parts of a network meeting's projector view that upper layers serve (the child's plan:
# minutes.plans), rendered after the meeting's own (meetings.network.projection).
NETWORK_PROJECTION_PARTS: Registry[NetworkProjectionPart] = Registry(
    "samverkan.network_projection_parts"
)
