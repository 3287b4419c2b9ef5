"""Invitation letters: writing one to a participant (sealed for the inviting agency when it is
written), and the PDF opened through the one door at each download (only the inviting agency,
or an agency holding a disclosure of the letter's record, reads it), every print logged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE, utcnow
from coordination.errors import PermissionDenied, ServiceError, get_or_not_found
from coordination.models import User
from coordination.policy import Need
from meetings.agenda.attendance import agencies_attending
from meetings.models import AttendanceStatus
from meetings.network.access import network_for
from meetings.network.labels import KIND_LABELS, PURPOSE_LABELS, ROLE_LABELS
from meetings.network.models import InvitationLetter, NetworkMeeting, NetworkParticipant
from meetings.network.services import NOTE_CATEGORY, record_on_meeting, require_inviter
from meetings.tags import MeetingTag
from secrecy.records.results import Revealed
from secrecy.records.reveal import reveal_one
from secrecy.records.services import add_sealed_record


def letter_content(
    session: Session,
    actor: User,
    network: NetworkMeeting,
    participant: NetworkParticipant,
    name: str,
) -> dict[str, object]:
    """What the letter says: to whom, when, where, who else comes (by role and agency), what
    for, and whom to call. Nothing about the child beyond that there is a meeting."""
    meeting = network.meeting
    others = [p for p in network.participants if p.id != participant.id]
    roles: dict[str, int] = {}
    for other in others:
        label = str(ROLE_LABELS[other.role])
        roles[label] = roles.get(label, 0) + 1
    attending = agencies_attending(
        session, meeting.id, (AttendanceStatus.INVITED, AttendanceStatus.PRESENT)
    )
    agencies = [agency.name for agency in attending]
    starts = meeting.starts_at.astimezone(LOCAL_ZONE)
    ends = meeting.ends_at.astimezone(LOCAL_ZONE)
    text = _l(
        "Kallelse till nätverksmöte %(date)s kl. %(time)s till %(name)s.",
        date=starts.date().isoformat(),
        time=starts.strftime("%H:%M"),
        name=name,
    )
    return {
        "text": str(text),
        "letter": True,
        "name": name,
        "role": participant.role.value,
        "kind": str(KIND_LABELS[network.kind]),
        "purpose": str(PURPOSE_LABELS[network.purpose]),
        "date": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "end": ends.strftime("%H:%M"),
        "location": meeting.location or "",
        "video_link": meeting.video_link or "",
        "other_roles": [f"{label} ({n})" if n > 1 else label for label, n in roles.items()],
        "agencies": agencies,
        "contact_name": actor.display_name,
        "contact_agency": actor.agency.name,
    }


def create_letter(
    session: Session,
    actor: User,
    network: NetworkMeeting,
    participant: NetworkParticipant,
    *,
    now: dt.datetime | None = None,
) -> InvitationLetter:
    """The invitation letter to one participant, sealed for the inviting agency; the name is
    read from the participant's record through the one door."""
    require_inviter(actor, network)
    if network.meeting.starts_at <= (now or utcnow()):
        raise ServiceError(_l("Mötet har redan börjat. Kallelser skrivs före mötet."))
    opened = reveal_one(session, actor, participant.name_record, purpose="letter")
    if not isinstance(opened, Revealed):
        raise PermissionDenied()
    content = letter_content(session, actor, network, participant, str(opened.content["name"]))
    record = add_sealed_record(session, actor, network.child, NOTE_CATEGORY, content)
    letter = InvitationLetter(
        meeting_id=network.meeting_id,
        participant_id=participant.id,
        record_id=record.id,
        created_by_id=actor.id,
    )
    session.add(letter)
    session.flush()
    record_on_meeting(
        session,
        actor,
        network,
        MeetingTag.NETWORK_LETTER_CREATE,
        letter_id=letter.id,
        participant_id=participant.id,
        record_id=record.id,
    )
    return letter


def log_letter_print(
    session: Session, actor: User, network: NetworkMeeting, letter: InvitationLetter
) -> None:
    """Every download of a letter: ids only."""
    record_on_meeting(
        session,
        actor,
        network,
        MeetingTag.NETWORK_LETTER_PRINT,
        letter_id=letter.id,
        record_id=letter.record_id,
    )


def letter_for(
    session: Session, actor: User, letter_id: int
) -> tuple[InvitationLetter, NetworkMeeting]:
    """The letter and its network meeting, loaded for the council's members (WRITE); one
    refusal for unknown and forbidden ids alike."""
    letter = get_or_not_found(session, InvitationLetter, letter_id, "invitation_letter")
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
