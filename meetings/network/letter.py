"""The invitation letter as a PDF: opened through the one door (only the inviting agency, or
an agency holding a disclosure of the letter's record, reads it), logged at every download."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy.orm import Session

from coordination.errors import NotFound, PermissionDenied
from coordination.models import User
from coordination.policy import Need
from meetings.network.access import network_for
from meetings.network.models import InvitationLetter, NetworkMeeting
from meetings.network.services import log_letter_print
from secrecy.records.results import Revealed
from secrecy.records.reveal import reveal_one


def letter_for(
    session: Session, actor: User, letter_id: int
) -> tuple[InvitationLetter, NetworkMeeting]:
    """The letter and its network meeting, loaded for the council's members (WRITE); one
    refusal for unknown and forbidden ids alike."""
    letter = session.get(InvitationLetter, letter_id)
    if letter is None:
        raise NotFound(object_type="invitation_letter", object_ids=[letter_id])
    return letter, network_for(session, actor, letter.meeting_id, Need.WRITE)


def open_letter(
    session: Session, actor: User, network: NetworkMeeting, letter: InvitationLetter
) -> dict[str, Any]:
    """The letter's content for printing, or a refusal (logged by the wrapper) for a reader
    who may not see it; a print is logged."""
    opened = reveal_one(session, actor, letter.record, purpose="export")
    if not isinstance(opened, Revealed):
        raise PermissionDenied(object_type="invitation_letter", object_ids=[letter.id])
    log_letter_print(session, actor, network, letter)
    return opened.content


def render_letter_pdf(content: dict[str, Any]) -> bytes:
    html = render_template("meetings/network/letter_pdf.html", letter=content)
    from weasyprint import HTML  # heavy (Pango through cffi): loaded on the first letter

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
