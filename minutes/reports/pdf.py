"""The approved minutes as a PDF/A document to file (arkivera).

The document holds what the print view holds for the same reader (``printing.print_view``: one
reveal per document, withheld entries marked with their reason, the export logged, here under
its own tag) and what makes it a record of the meeting: the council, the date, the attendance,
the chair and the adjuster with the times they approved, and the SHA-256 digest of the approved
content that the lock event in the audit chain holds. WeasyPrint renders it as PDF/A-2b (fonts
embedded, an sRGB output intent, XMP metadata), the variant archives ask for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coordination.errors import ServiceError
from coordination.models import User
from meetings.models import Attendance, AttendanceStatus, Meeting
from minutes.models import ApprovalRole, Minutes, MinutesApproval, MinutesStatus
from minutes.reports.printing import PrintView, print_view
from minutes.tags import MinutesTag

PDF_VARIANT = "pdf/a-2b"
NOT_APPROVED = _l("Protokollet är inte justerat ännu. PDF-dokumentet finns när det är låst.")


@dataclass(frozen=True)
class MinutesDocument:
    view: PrintView
    minutes: Minutes
    attendance: list[Attendance]
    approvals: dict[ApprovalRole, MinutesApproval]


def minutes_document(
    session: Session, actor: User, meeting: Meeting, now: dt.datetime
) -> MinutesDocument:
    """What ``actor`` may file of the approved minutes; the export is logged. Access (members
    of the council) is checked by the caller."""
    minutes = session.scalar(
        select(Minutes)
        .where(Minutes.meeting_id == meeting.id)
        .options(selectinload(Minutes.approvals).selectinload(MinutesApproval.user))
    )
    if minutes is None or minutes.status is not MinutesStatus.APPROVED:
        raise ServiceError(NOT_APPROVED)
    attendance = sorted(
        session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id)
            .options(selectinload(Attendance.user))
        ),
        key=lambda a: (a.user.agency.name, a.user.display_name),
    )
    view = print_view(session, actor, meeting, now, tag=MinutesTag.PDF_EXPORT)
    return MinutesDocument(
        view=view,
        minutes=minutes,
        attendance=attendance,
        approvals={a.role: a for a in minutes.approvals},
    )


def render_pdf(document: MinutesDocument, **labels: object) -> bytes:
    """The document as PDF/A bytes; ``labels``: the Swedish labels the template shows."""
    html = render_template(
        "minutes/minutes_pdf.html",
        doc=document,
        view=document.view,
        meeting=document.view.meeting,
        ApprovalRole=ApprovalRole,
        AttendanceStatus=AttendanceStatus,
        **labels,
    )
    from weasyprint import HTML  # heavy (Pango through cffi): loaded on the first document

    pdf: bytes = HTML(string=html).write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
