"""The owner agency's log reviewer reads its disclosure decisions with their assessments.

Disclosure must be an assessment of the individual case: the reviewer checks that each decision
of the agency's users carries one and that it answers the question the basis asks. The page is
in the log review's menu (``register_review_section``); the assessments are opened through
``secrecy.records.reveal.reveal_assessments_for_review``, which logs the reading.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coordination.db import db_session
from coordination.numbers import page_count
from coordination.policy import Permission
from coordination.web.page import actor, page_locale, require_permission
from coordination.web.params import page_number
from coordination.web.registries import register_review_section
from secrecy.disclosure.views import bp
from secrecy.models import Disclosure, Record
from secrecy.policy.categories import categories
from secrecy.policy.rules import legal_bases
from secrecy.records.reveal import reveal_exchanged

PAGE_SIZE = 50


def init_app(app: Flask) -> None:
    register_review_section(app, "disclosures.review", _l("Uppgiftslämnanden"))


@bp.page("/logreview/disclosures")
def review() -> ResponseReturnValue:
    """The decisions on the reviewer's agency's records, newest first, with the assessment."""
    require_permission(Permission.REVIEW_AGENCY_LOG)
    session = db_session()
    user = actor()
    page = page_number()
    owned = (
        select(Disclosure)
        .join(Record, Record.id == Disclosure.record_id)
        .where(Record.owner_agency_id == user.agency_id)
    )
    total = session.scalar(select(func.count()).select_from(owned.subquery())) or 0
    decisions = session.scalars(
        owned.options(
            selectinload(Disclosure.record).selectinload(Record.child),
            selectinload(Disclosure.assessment_record),
            selectinload(Disclosure.recipient_agency),
            selectinload(Disclosure.decided_by),
        )
        .order_by(Disclosure.decided_at.desc(), Disclosure.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    opened = reveal_exchanged(
        session,
        user,
        [
            (d.assessment_record, frozenset({user.agency_id}))
            for d in decisions
            if d.assessment_record is not None
        ],
        purpose="log_review",
    )
    assessments = {i: str(content.get("text", "")) for i, content in opened.items()}
    return render_template(
        "secrecy/review_disclosures.html",
        decisions=decisions,
        assessments=assessments,
        bases=legal_bases(),
        categories=categories(),
        locale=page_locale(),
        page=page,
        pages=page_count(total, PAGE_SIZE),
    )
