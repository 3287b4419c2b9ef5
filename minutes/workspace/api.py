"""API: the minutes of a meeting, as the workspace shows them.

Every record (briefs, entries, action descriptions) is opened with one ``reveal_records`` call
per request, through ``minutes.workspace.contents`` like the page.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from pydantic import Field
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiBlueprint,
    OutModel,
    api_user,
)
from coordination.db import db_session
from coordination.models import User
from coordination.policy import Need
from meetings.agenda.access import meeting_for
from meetings.agenda.api import PersonRef, person, person_ref
from minutes.actions.api_models import ActionOut, actions_out, agency_of
from minutes.models import (
    AmendmentReason,
    ApprovalRole,
    EntryKind,
    MinutesEntry,
    MinutesStatus,
)
from minutes.workspace.contents import MinutesContents, minutes_contents
from secrecy.records.api import AgencyRef, RecordOut, record_out

bp = ApiBlueprint(
    "api_minutes",
    __name__,
    tag="Protokoll",
    description=(
        "Protokollet per barn: underlag, anteckningar och beslut med rättelser, åtgärder och "
        "justering."
    ),
)


class ApprovalOut(OutModel):
    role: ApprovalRole
    user: PersonRef
    approved_at: dt.datetime


class AmendmentOut(OutModel):
    id: int
    kind: EntryKind
    author: PersonRef | None
    author_agency: AgencyRef | None
    created_at: dt.datetime
    amendment_reason: AmendmentReason | None = Field(description="Skälet till rättelsen.")
    record: RecordOut


class EntryOut(OutModel):
    id: int
    kind: EntryKind
    author: PersonRef | None
    author_agency: AgencyRef | None
    created_at: dt.datetime
    conflict_with_id: int | None = Field(
        description="Sparad samtidigt som den här anteckningen (konfliktversion)."
    )
    record: RecordOut
    amendments: list[AmendmentOut] = Field(description="Rättelser efter justeringen.")


class ChildMinutesOut(OutModel):
    child_id: int
    pseudonym: str
    position: int = Field(description="Plats på dagordningen.")
    brief: RecordOut | None = Field(description="Underlaget från dagordningen.")
    earlier_open_actions: list[ActionOut] = Field(
        description="Öppna åtgärder från tidigare möten som tas upp igen."
    )
    entries: list[EntryOut] = Field(description="Anteckningar och beslut.")
    actions: list[ActionOut] = Field(description="Åtgärder som beslutades vid det här mötet.")


class MinutesOut(OutModel):
    meeting_id: int
    minutes_id: int | None = Field(description="Null tills någon har skrivit i protokollet.")
    status: MinutesStatus
    version: int | None = Field(description="Utkastets version; null tills protokollet finns.")
    locked: bool = Field(description="Justerat och låst: ändringar görs som rättelser.")
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    digest: str | None = Field(description="Kontrollsumma (SHA-256) över det justerade innehållet.")
    chair: PersonRef | None
    adjuster: PersonRef | None = Field(description="Justerare.")
    approvals: list[ApprovalOut]
    children: list[ChildMinutesOut] = Field(description="Barnen i dagordningens ordning.")


# --- Minutes ------------------------------------------------------------------------------------


def _entry_fields(contents: MinutesContents, entry: MinutesEntry) -> dict[str, object]:
    author = contents.authors.get(entry.author_id)
    return {
        "id": entry.id,
        "kind": entry.kind,
        "author": person(author),
        "author_agency": agency_of(author),
        "created_at": entry.created_at,
        "record": record_out(contents.revealed[entry.record_id]),
    }


def _children(session: Session, viewer: User, contents: MinutesContents) -> list[ChildMinutesOut]:
    """Per child in agenda order, as the workspace groups them."""
    amendments: dict[int, list[AmendmentOut]] = {}
    for entry in contents.entries:
        if entry.amends_id is not None:
            amendments.setdefault(entry.amends_id, []).append(
                AmendmentOut.model_validate(
                    {
                        **_entry_fields(contents, entry),
                        "amendment_reason": entry.amendment_reason,
                    }
                )
            )
    shown = actions_out(session, viewer, contents.earlier + contents.current, contents.revealed)
    earlier, current = shown[: len(contents.earlier)], shown[len(contents.earlier) :]
    children = []
    for item in contents.items:
        children.append(
            ChildMinutesOut(
                child_id=item.child_id,
                pseudonym=item.child.pseudonym,
                position=item.position,
                brief=(
                    record_out(contents.revealed[item.brief_record_id])
                    if item.brief_record_id in contents.revealed
                    else None
                ),
                earlier_open_actions=[a for a in earlier if a.child_id == item.child_id],
                entries=[
                    EntryOut.model_validate(
                        {
                            **_entry_fields(contents, e),
                            "conflict_with_id": e.conflict_with_id,
                            "amendments": amendments.get(e.id, []),
                        }
                    )
                    for e in contents.entries
                    if e.child_id == item.child_id and e.amends_id is None
                ],
                actions=[a for a in current if a.child_id == item.child_id],
            )
        )
    return children


@bp.operation(
    "/meetings/<int:meeting_id>/minutes",
    summary="Mötets protokoll",
)
def meeting_minutes(meeting_id: int) -> MinutesOut:
    """Status och justering, och per barn på dagordningen: underlaget, öppna åtgärder från
    tidigare möten, anteckningar och beslut (med rättelser) och åtgärderna som beslutades.
    Uppgifter som inte har lämnats ut till din myndighet visas som undanhållna. För forumets
    medlemmar och mötets inbjudna gäster, som arbetsytan."""
    session = db_session()
    user = api_user()
    meeting = meeting_for(session, user, meeting_id, Need.VIEW)
    contents = minutes_contents(session, user, meeting)
    minutes = contents.minutes
    approvals = sorted(minutes.approvals, key=lambda a: (a.approved_at, a.id)) if minutes else []
    return MinutesOut(
        meeting_id=meeting.id,
        minutes_id=minutes.id if minutes else None,
        status=minutes.status if minutes else MinutesStatus.DRAFT,
        version=minutes.version if minutes else None,
        locked=minutes is not None and minutes.status is MinutesStatus.APPROVED,
        submitted_at=minutes.submitted_at if minutes else None,
        approved_at=minutes.approved_at if minutes else None,
        digest=minutes.digest if minutes else None,
        chair=person(meeting.chair),
        adjuster=person(minutes.adjuster) if minutes else None,
        approvals=[
            ApprovalOut(
                role=a.role,
                user=person_ref(a.user),
                approved_at=a.approved_at,
            )
            for a in approvals
        ],
        children=_children(session, user, contents),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
