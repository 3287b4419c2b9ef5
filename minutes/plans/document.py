"""The plan for the family: the plan in force in plain Swedish, for the young person and the
guardians to read, as a PDF. It holds only this child's plan and only the texts the
downloading agency may read (one reveal); a text it may not read is left out, with a line that
something is missing. The export is logged (ids only)."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.errors import ServiceError
from coordination.models import User
from minutes.plans.areas import area_label
from minutes.plans.forms import OUTCOME_LABELS
from minutes.plans.models import IndividualPlan
from minutes.plans.reading import VersionView, read_version
from minutes.plans.services import agreed_version
from minutes.tags import MinutesTag
from secrecy.records.reveal import Revealed

NOT_AGREED = _l("Planen har ingen fastställd version ännu. Dokumentet finns när den har det.")


def family_document(session: Session, actor: User, plan: IndividualPlan) -> VersionView:
    """What ``actor`` may hand the family of the plan in force; the export is logged. Access
    (members of the council) is checked by the caller."""
    version = agreed_version(plan)
    if version is None:
        raise ServiceError(NOT_AGREED)
    view = read_version(session, actor, version, purpose="plan_document")
    texts = [
        r
        for g in view.goals
        for r in (g.text, g.indicator, g.evaluation_comment, *(m.description for m in g.measures))
        if r is not None
    ] + [r for r in (view.youth_view, view.guardian_view) if r is not None]
    record_event(
        session,
        actor,
        MinutesTag.PLAN_EXPORT,
        on=plan,
        details={
            "child_id": plan.child_id,
            "version_id": version.id,
            "record_ids": sorted({r.record.id for r in texts if isinstance(r, Revealed)}),
            "left_out": sum(1 for r in texts if not isinstance(r, Revealed)),
        },
    )
    return view


def render_family_html(view: VersionView) -> str:
    return render_template(
        "minutes/plans/family_pdf.html",
        view=view,
        area_label=area_label,
        outcome_labels=OUTCOME_LABELS,
        today=today_local(),
    )


def render_family_pdf(view: VersionView) -> bytes:
    from weasyprint import HTML  # heavy (Pango through cffi): loaded on the first document

    pdf: bytes = HTML(string=render_family_html(view)).write_pdf()
    return pdf
