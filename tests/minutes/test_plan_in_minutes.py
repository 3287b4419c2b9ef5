"""The minutes' printed view and PDF/A say which plan version the meeting agreed for a child,
with the number of goals and their life areas: the structure, never a goal's sealed text."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy.orm import Session

from coordination.db import today_local
from meetings.models import Attendance, AttendanceStatus
from minutes.models import ApprovalRole, Minutes, MinutesApproval, MinutesStatus
from minutes.plans import goals, services
from minutes.workspace.approval import content_digest
from tests.conftest import Council3
from tests.minutes.plan_helpers import MARKERS, POLICE, SCHOOL, SOCIAL, make_plan

POLICE_GOAL = "PLAN-POLICE-GOAL-MARK"
POLICE_INDICATOR = "PLAN-POLICE-INDICATOR-MARK"
SEALED = (*MARKERS, POLICE_GOAL, POLICE_INDICATOR)


def _agreed(db: Session, world: Council3):  # type: ignore[no-untyped-def]
    """Social services' goal (school, shared with the police) and the police's own goal
    (leisure, shared with nobody), agreed at the meeting."""
    s = make_plan(db, world, share=True)
    draft = services.latest_version(s.plan)
    goals.add_goal(
        db,
        world.members[POLICE],
        draft,
        goals.GoalInput(
            "leisure", today_local() + dt.timedelta(days=60), POLICE_GOAL, POLICE_INDICATOR
        ),
    )
    services.agree_version(db, world.members[SOCIAL], draft, s.meeting)
    return s


def _approve(db: Session, world: Council3, meeting_id: int) -> None:
    minutes = db.query(Minutes).filter_by(meeting_id=meeting_id).one()
    police = world.members[POLICE]
    for user in (world.coordinator, police):
        db.add(Attendance(meeting_id=meeting_id, user_id=user.id, status=AttendanceStatus.PRESENT))
    minutes.adjuster_id = police.id
    for user, role in ((world.coordinator, ApprovalRole.CHAIR), (police, ApprovalRole.ADJUSTER)):
        db.add(MinutesApproval(minutes_id=minutes.id, user_id=user.id, role=role))
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_at = dt.datetime.now(dt.UTC)
    db.flush()
    minutes.digest = content_digest(db, minutes)
    db.flush()


def _text(body: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)


def test_the_printed_minutes_record_the_plan_agreed_without_its_texts(
    db: Session, world: Council3, client_for
) -> None:
    s = _agreed(db, world)
    for kind in (SOCIAL, POLICE, SCHOOL):
        page = client_for(kind).get(f"/meetings/{s.meeting.id}/minutes/print")
        assert page.status_code == 200, kind
        # The child has neither entries nor actions at the meeting: the plan alone names it.
        assert str(s.child.pseudonym) in page.text
        assert "Individuell plan version 1 fastställd" in page.text, kind
        assert "Antal mål: 2" in page.text and "(Skola, Fritid)" in page.text
        for marker in SEALED:
            assert marker not in page.text, (kind, marker)


def test_the_minutes_pdf_records_the_plan_agreed_without_its_texts(
    db: Session, world: Council3, client_for
) -> None:
    s = _agreed(db, world)
    # A later version does not change what this meeting's minutes say it agreed.
    services.revise_plan(db, world.members[SOCIAL], s.plan, "Ny version")
    _approve(db, world, s.meeting.id)
    for kind in (SOCIAL, POLICE, SCHOOL):
        response = client_for(kind).get(f"/meetings/{s.meeting.id}/minutes.pdf")
        assert response.status_code == 200, kind
        text = _text(response.data)
        assert "Individuell plan version 1 fastställd" in text, kind
        assert "Antal mål: 2" in text and "Skola, Fritid" in text
        assert "version 2" not in text
        for marker in SEALED:
            assert marker not in text, (kind, marker)
