"""Network meetings: calling one about a child, inviting participants without accounts, their
attendance at the meeting, and the young person's voice (the letters are in ``letters``).

Names and e-mail addresses are sealed records of the inviting agency (category ``family``);
the voice is a sealed record (``meeting_note``) of the agency that wrote it.
Services take ``(session, actor, ...)``, validate, change, flush and append their audit event
in the caller's transaction; they never commit. Nothing personal goes into an audit event.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.log import record_event
from coordination.db import LOCAL_ZONE, utcnow
from coordination.errors import PermissionDenied, ServiceError, check_version
from coordination.models import Child, ChildStatus, Council, CouncilMembership, User
from coordination.policy import can_view_council
from meetings.agenda.access import require_not_cancelled
from meetings.models import (
    AgendaItem,
    AgendaSource,
    Attendance,
    AttendanceStatus,
)
from meetings.network.access import may_call_network_meeting, may_invite
from meetings.network.labels import ROLE_LABELS
from meetings.network.models import (
    NetworkKind,
    NetworkMeeting,
    NetworkParticipant,
    NetworkPurpose,
    ParticipantRole,
    ParticipantStatus,
    YoungPersonVoice,
)
from meetings.schedules.checks import check_duration, check_place
from meetings.schedules.meeting_changes import add_single_meeting
from meetings.schedules.rules import local_span
from meetings.tags import MeetingTag
from secrecy.records.services import add_sealed_record

NAME_CATEGORY = "family"
NOTE_CATEGORY = "meeting_note"
# The child's one agenda item: why it is there, as the projector shows it.
AGENDA_REASON = "meeting_note"
MAX_NAME = 200
MAX_EMAIL = 254
MAX_VOICE = 4000
# A practical check, not RFC 5322: one @, no spaces, a dot in the domain.
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@dataclass(frozen=True)
class NetworkMeetingData:
    child: Child | None
    kind: str
    purpose: str
    day: dt.date | None
    start_time: dt.time | None
    duration_minutes: int
    location: str | None = None
    video_link: str | None = None
    # The council agencies whose members are invited; the inviting agency always is.
    agency_ids: Sequence[int] = field(default_factory=tuple)


def _check_child(council: Council, child: Child | None) -> Child:
    if child is None:
        raise ServiceError(_l("Välj det barn som nätverksmötet gäller."), field="child_id")
    if child.council_id != council.id or child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Barnet finns inte bland forumets aktiva ärenden."), field="child_id")
    return child


def _check_kind(value: str) -> NetworkKind:
    try:
        return NetworkKind(value)
    except ValueError:
        raise ServiceError(_l("Välj vilket slags nätverksmöte det är."), field="kind") from None


def _check_purpose(value: str) -> NetworkPurpose:
    try:
        return NetworkPurpose(value)
    except ValueError:
        raise ServiceError(_l("Välj vad mötet ska handla om."), field="purpose") from None


def _check_time(data: NetworkMeetingData, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if data.day is None:
        raise ServiceError(_l("Ange datum."), field="day")
    if data.start_time is None:
        raise ServiceError(_l("Ange starttid."), field="start_time")
    duration = check_duration(data.duration_minutes)
    start = data.start_time.replace(second=0, microsecond=0, tzinfo=None)
    starts_at, ends_at = local_span(data.day, start, duration)
    if starts_at <= now:
        raise ServiceError(_l("Tiden har redan varit. Välj en tid som ligger framåt."), field="day")
    return starts_at, ends_at


def _invitees(
    session: Session, council: Council, agency_ids: Sequence[int], actor: User
) -> list[int]:
    """The active members of the council from the chosen agencies, and the caller."""
    council_agencies = {a.id for a in council.agencies}
    unknown = set(agency_ids) - council_agencies
    if unknown:
        raise ServiceError(_l("Bara myndigheter i forumet kan bjudas in."), field="agency_ids")
    chosen = set(agency_ids) | {actor.agency_id}
    rows = session.scalars(
        select(CouncilMembership.user_id)
        .join(User, User.id == CouncilMembership.user_id)
        .where(
            CouncilMembership.council_id == council.id,
            User.active.is_(True),
            User.agency_id.in_(chosen),
        )
        .order_by(CouncilMembership.user_id)
    ).all()
    return sorted(set(rows) | {actor.id})


def create_network_meeting(
    session: Session,
    actor: User,
    council: Council,
    data: NetworkMeetingData,
    *,
    now: dt.datetime | None = None,
) -> NetworkMeeting:
    """A network meeting about one child of the council, called by a coordinator or a social
    secretary: a meeting of the council with the child as its one agenda item (its minutes and
    agreed actions are recorded as for any meeting), and the chosen agencies' members invited."""
    if not may_call_network_meeting(actor, council):
        raise PermissionDenied()
    child = _check_child(council, data.child)
    kind = _check_kind(data.kind)
    purpose = _check_purpose(data.purpose)
    starts_at, ends_at = _check_time(data, now or utcnow())
    location, video_link = check_place(data.location, data.video_link)
    invitees = _invitees(session, council, data.agency_ids, actor)
    meeting = add_single_meeting(
        session,
        council,
        (starts_at, ends_at),
        (location, video_link),
        starts_at.astimezone(LOCAL_ZONE).date(),
    )
    session.add_all(
        Attendance(meeting_id=meeting.id, user_id=user_id, status=AttendanceStatus.INVITED)
        for user_id in invitees
    )
    session.add(
        AgendaItem(
            meeting_id=meeting.id,
            child_id=child.id,
            position=1,
            reason_category=AGENDA_REASON,
            source=AgendaSource.MANUAL,
            added_by_id=actor.id,
        )
    )
    network = NetworkMeeting(
        meeting=meeting,
        child=child,
        kind=kind,
        purpose=purpose,
        inviting_agency_id=actor.agency_id,
        created_by_id=actor.id,
    )
    session.add(network)
    session.flush()
    record_event(
        session,
        actor,
        MeetingTag.NETWORK_CREATE,
        on=meeting,
        details={
            "council_id": council.id,
            "child_id": child.id,
            "kind": kind.value,
            "invited": len(invitees),
        },
    )
    return network


# --- Participants ------------------------------------------------------------------------------


def check_email(raw: str | None) -> str | None:
    email = (raw or "").strip()
    if not email:
        return None
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise ServiceError(
            _l(
                "E-postadressen är inte giltig. Skriv den som namn@exempel.se "
                "eller lämna fältet tomt."
            ),
            field="email",
        )
    return email


def record_on_meeting(
    session: Session, actor: User, network: NetworkMeeting, tag: MeetingTag, **details: object
) -> None:
    """An audit event about the network meeting; ``details`` carry ids and codes only."""
    record_event(
        session,
        actor,
        tag,
        object_type="meeting",
        object_ids=[network.meeting_id],
        details=details,
    )


def require_changeable(network: NetworkMeeting) -> None:
    require_not_cancelled(network.meeting)
    if network.child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är avslutat."))


def require_inviter(actor: User, network: NetworkMeeting) -> None:
    """Invitations (participants, their attendance, letters) are changed by the inviting
    agency's members of the council, while the meeting and the case are open."""
    if not may_invite(actor, network):
        raise PermissionDenied()
    require_changeable(network)


def add_participant(
    session: Session,
    actor: User,
    network: NetworkMeeting,
    role: str,
    name: str,
    email: str | None = None,
) -> NetworkParticipant:
    """Invite someone without an account; the name (and e-mail) sealed for the inviting agency."""
    require_inviter(actor, network)
    try:
        role_code = ParticipantRole(role)
    except ValueError:
        raise ServiceError(_l("Välj deltagarens roll."), field="role") from None
    clean_name = " ".join((name or "").split())
    if not clean_name:
        raise ServiceError(_l("Skriv deltagarens namn."), field="name")
    if len(clean_name) > MAX_NAME:
        raise ServiceError(_l("Namnet får vara högst 200 tecken."), field="name")
    clean_email = check_email(email)
    text = _l(
        "Kallad till nätverksmöte %(date)s som %(role)s: %(name)s",
        date=network.meeting.starts_at.astimezone(LOCAL_ZONE).date().isoformat(),
        role=ROLE_LABELS[role_code],
        name=clean_name,
    )
    content = {"text": str(text), "name": clean_name, "role": role_code.value}
    if clean_email:
        content["email"] = clean_email
    record = add_sealed_record(session, actor, network.child, NAME_CATEGORY, content)
    participant = NetworkParticipant(
        network=network,
        role=role_code,
        name_record_id=record.id,
        status=ParticipantStatus.INVITED,
        added_by_id=actor.id,
    )
    session.add(participant)
    session.flush()
    record_on_meeting(
        session,
        actor,
        network,
        MeetingTag.NETWORK_PARTICIPANT_ADD,
        participant_id=participant.id,
        role=role_code.value,
        record_id=record.id,
    )
    return participant


def participant_of(
    session: Session, network: NetworkMeeting, participant_id: int
) -> NetworkParticipant:
    participant = session.get(NetworkParticipant, participant_id)
    if participant is None or participant.meeting_id != network.meeting_id:
        raise PermissionDenied(object_type="network_participant", object_ids=[participant_id])
    return participant


def set_participant_status(
    session: Session,
    actor: User,
    network: NetworkMeeting,
    participant: NetworkParticipant,
    status: str,
    *,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> NetworkParticipant:
    """Present or absent, recorded by a member of the council once the meeting has begun (who
    was present matters for a consent signed at the meeting)."""
    require_inviter(actor, network)
    check_version(participant, expected_version)
    try:
        value = ParticipantStatus(status)
    except ValueError:
        raise ServiceError(_l("Välj närvarande eller frånvarande."), field="status") from None
    if value is not ParticipantStatus.INVITED and network.meeting.starts_at > (now or utcnow()):
        raise ServiceError(
            _l("Närvaro kan registreras först när mötet har börjat."), field="status"
        )
    participant.status = value
    session.flush()
    record_on_meeting(
        session,
        actor,
        network,
        MeetingTag.NETWORK_PARTICIPANT_STATUS,
        participant_id=participant.id,
        status=value.value,
    )
    return participant


# --- The young person's voice -------------------------------------------------------------------


def record_voice(
    session: Session, actor: User, network: NetworkMeeting, text: str
) -> YoungPersonVoice:
    """ "Barnets/den unges röst", a sealed record of the recording agency."""
    if not can_record(actor, network):
        raise PermissionDenied()
    require_changeable(network)
    clean = (text or "").strip()
    if not clean:
        raise ServiceError(_l("Skriv vad barnet eller den unge sa."), field="voice")
    if len(clean) > MAX_VOICE:
        raise ServiceError(_l("Texten får vara högst 4 000 tecken."), field="voice")
    record = add_sealed_record(
        session, actor, network.child, NOTE_CATEGORY, {"text": clean, "voice": True}
    )
    voice = YoungPersonVoice(meeting_id=network.meeting_id, record_id=record.id)
    session.add(voice)
    session.flush()
    record_on_meeting(
        session,
        actor,
        network,
        MeetingTag.NETWORK_VOICE_ADD,
        record_id=record.id,
        child_id=network.child_id,
    )
    return voice


def can_record(actor: User, network: NetworkMeeting) -> bool:
    return can_view_council(actor, network.meeting.council)
