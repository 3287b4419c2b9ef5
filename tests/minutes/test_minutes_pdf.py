"""The approved minutes as PDF/A: per reader (withheld entries withheld in the document's
text), the attendance, the approvers with their times, the digest of the lock event, logged as
an export; only approved minutes, only for the council's members."""

from __future__ import annotations

import datetime as dt
import io
import re

from flask import Flask
from pypdf import PdfReader
from sqlalchemy.orm import Session

from coordination.models import User
from meetings.models import Attendance, AttendanceStatus, Meeting
from minutes.models import ApprovalRole, Minutes, MinutesApproval, MinutesEntry, MinutesStatus
from minutes.workspace.approval import content_digest
from tests.conftest import Council3, audit_events, log_in
from tests.minutes.test_jobs import MARKER
from tests.minutes.test_reports import POLICE, POLICE_TEXT, SOCIAL, SOCIAL_TEXT
from tests.minutes.test_reports import outsider as outsider  # a fixture, re-exported
from tests.minutes.test_reports import printed as printed  # a fixture, re-exported

Printed = tuple[Meeting, object, list[MinutesEntry]]
APPROVED_AT = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)


def approve(db: Session, world: Council3, meeting: Meeting) -> Minutes:
    """Lock the fixture's minutes as approval does: the coordinator chairs, the police member
    adjusts, the digest stored."""
    minutes = db.query(Minutes).filter_by(meeting_id=meeting.id).one()
    police = world.members[POLICE]
    for user in (world.coordinator, police):
        db.add(Attendance(meeting_id=meeting.id, user_id=user.id, status=AttendanceStatus.PRESENT))
    meeting.chair_id = world.coordinator.id
    minutes.adjuster_id = police.id
    db.add(
        MinutesApproval(
            minutes_id=minutes.id, user_id=world.coordinator.id, role=ApprovalRole.CHAIR
        )
    )
    db.add(MinutesApproval(minutes_id=minutes.id, user_id=police.id, role=ApprovalRole.ADJUSTER))
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_at = APPROVED_AT
    db.flush()
    minutes.digest = content_digest(db, minutes)
    db.flush()
    return minutes


def pdf_text(body: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(body))
    return "\n".join(page.extract_text() or "" for page in reader.pages), reader


def test_the_pdf_withholds_what_the_reader_may_not_see_and_is_pdf_a(
    app: Flask, db: Session, world: Council3, printed: Printed
) -> None:
    meeting, child, entries = printed
    minutes = approve(db, world, meeting)
    police = world.members[POLICE]
    response = log_in(app.test_client(), police).get(f"/meetings/{meeting.id}/minutes.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="protokoll-{meeting.id}-2026-03-10.pdf"'
    text, reader = pdf_text(response.data)
    assert POLICE_TEXT in text
    assert SOCIAL_TEXT not in text and MARKER not in text  # social services' records
    assert text.count("Undanhållen") == 2
    assert "Ingen uppgiftslämning till din myndighet." in text
    assert child.pseudonym in text  # type: ignore[attr-defined]
    assert world.council.name in text
    # Attendance, the approvers with their times (Stockholm time), the digest of the lock.
    assert world.coordinator.display_name in text and police.display_name in text
    assert "Närvarande" in text
    assert "2026-03-12 10:30" in text
    assert minutes.digest is not None and minutes.digest in re.sub(r"\s+", "", text)
    # PDF/A-2b: the identification in the XMP metadata, fonts embedded.
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")2", raw) and re.search(r"pdfaid:conformance(>|=\")B", raw)
    # Logged as an export of the records it holds, under its own tag.
    events = audit_events(db, "minutes:pdf:export")
    assert len(events) == 1 and events[0].actor_user_id == police.id
    assert set(events[0].object_ids) >= {e.record_id for e in entries}
    assert audit_events(db, "minutes:print:export") == []


def test_the_owner_reads_its_own_entries_in_the_pdf(
    app: Flask, db: Session, world: Council3, printed: Printed
) -> None:
    meeting, _child, _entries = printed
    approve(db, world, meeting)
    response = log_in(app.test_client(), world.members[SOCIAL]).get(
        f"/meetings/{meeting.id}/minutes.pdf"
    )
    text, _reader = pdf_text(response.data)
    assert SOCIAL_TEXT in text and MARKER in text
    assert POLICE_TEXT not in text
    assert text.count("Undanhållen") == 1


def test_no_pdf_before_approval_and_none_for_outsiders(
    app: Flask,
    db: Session,
    world: Council3,
    printed: Printed,
    outsider: User,
) -> None:
    meeting, _child, _entries = printed
    client = log_in(app.test_client(), world.members[SOCIAL])
    draft = client.get(f"/meetings/{meeting.id}/minutes.pdf")
    assert draft.status_code == 302
    assert draft.headers["Location"].endswith(f"/meetings/{meeting.id}/minutes")
    assert "inte justerat ännu" in client.get(draft.headers["Location"]).text
    assert audit_events(db, "minutes:pdf:export") == []
    approve(db, world, meeting)
    refused = log_in(app.test_client(), outsider).get(f"/meetings/{meeting.id}/minutes.pdf")
    assert refused.status_code == 403
    assert audit_events(db, "minutes:pdf:export") == []


def test_the_workspace_and_the_meeting_page_link_to_the_pdf(
    app: Flask, db: Session, world: Council3, printed: Printed
) -> None:
    meeting, _child, _entries = printed
    approve(db, world, meeting)
    client = log_in(app.test_client(), world.members[SOCIAL])
    link = f'href="/meetings/{meeting.id}/minutes.pdf"'
    assert link in client.get(f"/meetings/{meeting.id}/minutes").text
    assert link in client.get(f"/meetings/{meeting.id}").text
