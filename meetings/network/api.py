"""API: Nätverksmöten.

A council's network meetings, one with its participants and the young person's voice, calling
one, inviting a participant and recording the voice: the same services and access rules as the
pages (``meetings.network.access``). Names and voices are opened with one ``reveal_records``
call per request: an agency without a basis gets them withheld, with the reason.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from pydantic import Field
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiBlueprint,
    ApiModel,
    DbId,
    OutModel,
    Page,
    PageQuery,
    api_user,
    paginate,
)
from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import fields_named
from coordination.models import Child, User
from coordination.policy import Need
from meetings.models import MeetingStatus
from meetings.network import services
from meetings.network.access import network_for
from meetings.network.models import (
    NetworkKind,
    NetworkMeeting,
    NetworkPurpose,
    ParticipantRole,
    ParticipantStatus,
)
from meetings.network.queries import council_network_meetings, network_detail
from secrecy.records.api import AgencyRef, RecordOut, record_out

bp = ApiBlueprint(
    "api_network",
    __name__,
    tag="Nätverksmöten",
    description=(
        "Nätverksmöten om ett barn med deltagare utan konto (den unge, vårdnadshavare, andra): "
        "kalla, lägga till deltagare och anteckna barnets/den unges röst. Namn och röst är "
        "förseglade uppgifter och visas bara för den som får se dem."
    ),
)


class NetworkMeetingOut(OutModel):
    meeting_id: int
    council_id: int
    child_id: int
    pseudonym: str = Field(description="Barnets pseudonym; namnet finns aldrig här.")
    kind: NetworkKind
    purpose: NetworkPurpose
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: MeetingStatus
    place: str | None
    video_link: str | None
    inviting_agency: AgencyRef


class ParticipantOut(OutModel):
    id: int
    role: ParticipantRole
    status: ParticipantStatus
    version: int
    name: RecordOut = Field(
        description="Namn och e-post som en förseglad uppgift från den kallande myndigheten "
        "(content.name, content.email); undanhållen för den som saknar stöd att se den."
    )


class LetterOut(OutModel):
    id: int
    participant_id: int
    created_at: dt.datetime


class NetworkMeetingDetailOut(NetworkMeetingOut):
    participants: list[ParticipantOut]
    letters: list[LetterOut]
    voices: list[RecordOut] = Field(description="Barnets/den unges röst, en uppgift per myndighet.")
    agencies: list[AgencyRef] = Field(description="Kallade myndigheter.")


class NetworkMeetingIn(ApiModel):
    child_id: DbId | None = Field(None, description="Barnet mötet gäller (krävs).")
    kind: NetworkKind
    purpose: NetworkPurpose
    day: dt.date
    start_time: dt.time = Field(description="Starttid, svensk tid (TT:MM).")
    duration_minutes: int = Field(ge=1, le=24 * 60)
    place: str | None = None
    video_link: str | None = None
    agency_ids: list[DbId] = Field(default_factory=list, description="Myndigheter som kallas.")


class ParticipantIn(ApiModel):
    role: ParticipantRole
    name: str = Field(max_length=200)
    email: str | None = Field(None, max_length=254)


class VoiceIn(ApiModel):
    text: str = Field(max_length=4000)


def _out(network: NetworkMeeting) -> NetworkMeetingOut:
    meeting = network.meeting
    return NetworkMeetingOut(
        meeting_id=network.meeting_id,
        council_id=meeting.council_id,
        child_id=network.child_id,
        pseudonym=network.child.pseudonym,
        kind=network.kind,
        purpose=network.purpose,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
        place=meeting.location,
        video_link=meeting.video_link,
        inviting_agency=AgencyRef.model_validate(network.inviting_agency),
    )


def _detail(session: Session, user: User, network: NetworkMeeting) -> NetworkMeetingDetailOut:
    detail = network_detail(session, user, network)
    return NetworkMeetingDetailOut(
        **_out(network).model_dump(),
        participants=[
            ParticipantOut(
                id=p.id,
                role=p.role,
                status=p.status,
                version=p.version,
                name=record_out(detail.opened[p.name_record_id]),
            )
            for p in detail.participants
        ],
        letters=[LetterOut.model_validate(letter) for letter in detail.letters],
        voices=[record_out(detail.opened[v.record_id]) for v in detail.voices],
        agencies=[AgencyRef.model_validate(a) for a in detail.agencies],
    )


@bp.operation(
    "/councils/<int:council_id>/network-meetings",
    summary="Ett forums nätverksmöten",
)
def council_networks(council_id: int, query: PageQuery) -> Page[NetworkMeetingOut]:
    """Forumets nätverksmöten, senaste först, för forumets medlemmar."""
    session = db_session()
    council = council_for(session, api_user(), council_id, Need.VIEW)
    return paginate([_out(n) for n in council_network_meetings(session, council.id)], query)


@bp.operation(
    "/councils/<int:council_id>/network-meetings",
    method="POST",
    summary="Kalla till nätverksmöte",
    status=201,
)
def create_network(council_id: int, body: NetworkMeetingIn) -> NetworkMeetingDetailOut:
    """Forumets samordnare och socialsekreterare i forumet kallar till ett möte om ett av
    forumets aktiva barn, vid en tid framåt."""
    session = db_session()
    user = api_user()
    council = council_for(session, user, council_id, Need.VIEW)
    child = session.get(Child, body.child_id) if body.child_id else None
    network = services.create_network_meeting(
        session,
        user,
        council,
        services.NetworkMeetingData(
            child=child,
            kind=body.kind.value,
            purpose=body.purpose.value,
            day=body.day,
            start_time=body.start_time,
            duration_minutes=body.duration_minutes,
            location=body.place,
            video_link=body.video_link,
            agency_ids=body.agency_ids,
        ),
    )
    return _detail(session, user, network)


@bp.operation(
    "/network-meetings/<int:meeting_id>",
    summary="Ett nätverksmöte med deltagare och barnets röst",
)
def network(meeting_id: int) -> NetworkMeetingDetailOut:
    """Som nätverksmötets sida: deltagarnas namn och barnets röst visas bara för den som får
    se dem, annars som undanhållna med skälet."""
    session = db_session()
    user = api_user()
    return _detail(session, user, network_for(session, user, meeting_id, Need.VIEW))


@bp.operation(
    "/network-meetings/<int:meeting_id>/participants",
    method="POST",
    summary="Lägg till en deltagare utan konto",
    status=201,
)
def add_participant(meeting_id: int, body: ParticipantIn) -> NetworkMeetingDetailOut:
    """Den kallande myndighetens användare i forumet lägger till den unge, en vårdnadshavare
    eller någon annan; namnet blir en förseglad uppgift från myndigheten. E-post är valfri
    men måste vara giltig."""
    session = db_session()
    user = api_user()
    found = network_for(session, user, meeting_id, Need.MANAGE)
    services.add_participant(session, user, found, body.role.value, body.name, body.email)
    return _detail(session, user, found)


@bp.operation(
    "/network-meetings/<int:meeting_id>/voices",
    method="POST",
    summary="Anteckna barnets/den unges röst",
    status=201,
)
def add_voice(meeting_id: int, body: VoiceIn) -> NetworkMeetingDetailOut:
    """Vad den unge sa, som en förseglad uppgift från din myndighet."""
    session = db_session()
    user = api_user()
    found = network_for(session, user, meeting_id, Need.WRITE)
    with fields_named({"voice": "text"}):  # the service names the page's field
        services.record_voice(session, user, found, body.text)
    return _detail(session, user, found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
