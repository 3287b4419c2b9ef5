"""The demo's past log reviews (issue 16): the months before last read, reviewed and signed by
the social services' log reviewer, the readings and disclosures logged when they happened, and
the audit chain still whole."""

from __future__ import annotations

import datetime as dt

import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditTag
from coordination.audit.verify import verify_log
from coordination.db import LOCAL_ZONE, today_local
from coordination.logreview.models import LogReview, ReviewOutcome
from coordination.logreview.monthly import add_months, month_key, month_report
from coordination.models import User
from demo.coordination import AUDITOR
from tests.conftest import log_in

# A Monday in mid-month: the six months of history lie behind it.
TODAY = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(TODAY, tick=False)
def test_the_demo_has_two_past_months_reviewed_and_signed(app: Flask, db: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    auditor = db.scalars(select(User).where(User.email == AUDITOR)).one()
    current = today_local().replace(day=1)
    before_last, two_before, last = (add_months(current, n) for n in (-3, -2, -1))
    reviews = {
        r.month: r
        for r in db.scalars(select(LogReview).where(LogReview.agency_id == auditor.agency_id))
    }
    assert set(reviews) == {before_last, two_before}  # the last month is left to do
    assert reviews[before_last].outcome is ReviewOutcome.NO_DEVIATIONS
    assert reviews[two_before].outcome is ReviewOutcome.DEVIATIONS_INVESTIGATED
    for month, review in reviews.items():
        signed = review.signed_at.astimezone(LOCAL_ZONE).date()
        assert signed.replace(day=1) == add_months(month, 1), "signed early the next month"
        assert review.signed_by_id == auditor.id

    # Each of the three months has readings and disclosures to review, at their own dates.
    for month in (before_last, two_before, last):
        report = month_report(db, auditor, month, today_local())
        assert sum(u.views for u in report.users) > 0, month
        assert sum(u.disclosures for u in report.users) > 0, month
        assert len({u.name for u in report.users if u.views}) >= 2, month
    flagged = month_report(db, auditor, two_before, today_local()).flagged_users
    assert [len(u.off_hours) for u in flagged] == [1]  # the evening reading looked into
    signs = db.scalars(select(AuditEvent).where(AuditEvent.tag == AuditTag.AUDIT_REVIEW_SIGN))
    assert sorted(e.occurred_at for e in signs) == sorted(r.signed_at for r in reviews.values())

    # Appended in chain order with their own times: the chain and its index still verify.
    verified = verify_log(db)
    assert verified.chain.ok and verified.index.ok, (verified.chain, verified.index)
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0 and len(db.scalars(select(LogReview)).all()) == 2

    # The reviewer sees the months signed and the month's report with its flag.
    page = log_in(app.test_client(), auditor)
    months = page.get("/logreview/months").text
    assert months.count("Signerad ") >= 2 and "Greta Granskare" in months
    report_page = page.get(f"/logreview/months/{month_key(two_before)}").text
    assert "Signerad" in report_page and "Avvikelser utredda" in report_page
