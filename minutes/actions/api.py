"""API: agreed actions.

The action lists of "Mina åtgärder", "Min myndighets åtgärder" and a council's actions, one
action with its follow-up, and the status update: the same services and access rules as the
pages (``minutes.actions.access.action_for``); action descriptions and comments are opened with
one ``reveal_records`` call per request.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiBlueprint,
    Page,
    api_user,
    make_page,
    page_window,
)
from coordination.api.problems import invalid_field
from coordination.councils.access import council_for
from coordination.db import db_session, today_local
from coordination.errors import check_version, fields_named
from coordination.models import Council, User
from coordination.policy import Need
from meetings.agenda.api import person_ref
from minutes.actions.access import action_for, allowed_statuses, comment_recipient
from minutes.actions.api_models import (
    ActionDetailOut,
    ActionOut,
    ActionPatch,
    ActionsQuery,
    ActionUpdateOut,
    action_fields,
    rows_out,
)
from minutes.actions.lists import (
    DueFilter,
    ListQuery,
    ListScope,
    StatusFilter,
    actions_window,
    description_keys,
)
from minutes.actions.services import StatusChange, action_history, update_action
from minutes.models import (
    AgreedAction,
)
from secrecy.models import Record
from secrecy.records.api import AgencyRef, record_out
from secrecy.records.reveal import reveal_records

bp = ApiBlueprint(
    "api_actions",
    __name__,
    tag="Åtgärder",
    description=(
        "Överenskomna åtgärder: mina, min myndighets och ett forums, en åtgärd med dess "
        "uppföljning, och statusändring med kommentar."
    ),
)


# A status that has ended cannot be overdue: asking for both is a mistake, not an empty list.
ENDED_FILTERS = frozenset({StatusFilter.DONE, StatusFilter.NOT_DONE, StatusFilter.CANCELLED})


# The service's field names, as the body of PATCH /actions/{id} names them.
PATCH_FIELDS = {
    "basis": "share_basis",
    "recipient": "share_basis",
    "confirmations": "share_confirmations",
    "text": "comment",
}


def _council_of(session: Session, query: ActionsQuery) -> Council | None:
    """The council the query names: 422 when the scope needs one, the logged 403 when it does
    not exist or the user is not a member (one answer, so council ids cannot be probed)."""
    if query.council_id is None:
        if query.scope is ListScope.COUNCIL:
            raise invalid_field("council_id", _l("Ange forum när scope är council."))
        return None
    return council_for(session, api_user(), query.council_id, Need.VIEW)


@bp.operation(
    "/actions",
    summary="Åtgärder: mina, min myndighets eller ett forums",
)
def actions(query: ActionsQuery) -> Page[ActionOut]:
    """Samma listor och filter som sidorna Mina åtgärder, Min myndighets åtgärder och
    forumets åtgärder, bara i forum där du är medlem. Beskrivningar som inte har lämnats ut till
    din myndighet visas som undanhållna."""
    session = db_session()
    user = api_user()
    if query.due is DueFilter.OVERDUE and query.status in ENDED_FILTERS:
        raise invalid_field("due", _l("Bara öppna och pågående åtgärder kan vara försenade."))
    council = _council_of(session, query)
    scoped = council if query.scope is ListScope.COUNCIL else None
    offset, wanted = page_window(query)
    window, _total = actions_window(
        session,
        user,
        query.scope,
        ListQuery(
            status=query.status,
            due=query.due,
            council_id=None if scoped else query.council_id,
            sort=query.sort,
        ),
        today_local(),
        scoped,
        offset=offset,
        limit=wanted,
        authors=True,
        last_updates=True,
    )
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session,
            user,
            [row.description for row in window],
            purpose="action_list",
            wrapped_keys=description_keys(window),
        )
    }
    return make_page(rows_out(user, window, revealed), query, offset)


def _action_detail(session: Session, viewer: User, action: AgreedAction) -> ActionDetailOut:
    """The action with its history, description and comments opened in one reveal."""
    history = action_history(session, action)
    record_ids = [action.description_record_id] + [
        u.comment_record_id for u in history if u.comment_record_id is not None
    ]
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    revealed = {
        r.record.id: r
        for r in reveal_records(
            session, viewer, [records[i] for i in record_ids], purpose="agreed_action"
        )
    }
    authors = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({h.author_id for h in history})))
    }
    recipient = comment_recipient(viewer, action, records[action.description_record_id])
    fields = action_fields(
        action,
        revealed[action.description_record_id],
        viewer,
        today_local(),
        history[-1].created_at if history else None,
    )
    return ActionDetailOut.model_validate(
        {
            **fields,
            "meeting_starts_at": action.meeting.starts_at,
            "comment_recipient": (AgencyRef.model_validate(recipient) if recipient else None),
            "history": [
                ActionUpdateOut(
                    id=u.id,
                    from_status=u.from_status,
                    to_status=u.to_status,
                    author=person_ref(authors[u.author_id]),
                    author_agency=AgencyRef.model_validate(authors[u.author_id].agency),
                    created_at=u.created_at,
                    comment=(
                        record_out(revealed[u.comment_record_id])
                        if u.comment_record_id is not None
                        else None
                    ),
                )
                for u in history
            ],
        }
    )


@bp.operation(
    "/actions/<int:action_id>",
    summary="En åtgärd med uppföljning",
)
def action(action_id: int) -> ActionDetailOut:
    """Åtgärden, dess status och uppföljningen (statusändringar med kommentarer). För
    forumets medlemmar; beskrivning och kommentarer visas bara för myndigheter som har fått
    dem utlämnade."""
    session = db_session()
    user = api_user()
    return _action_detail(session, user, action_for(session, user, action_id, Need.VIEW))


@bp.operation(
    "/actions/<int:action_id>",
    method="PATCH",
    summary="Uppdatera en åtgärds status",
)
def update_action_status(action_id: int, body: ActionPatch) -> ActionDetailOut:
    """Ny status med kommentar, som på åtgärdens sida: den ansvariga myndighetens användare i
    forumet uppdaterar, forumets samordnare kan stryka. Avslutade åtgärder ändras inte. En
    version som inte längre gäller ger 409."""
    session = db_session()
    user = api_user()
    found = action_for(session, user, action_id, Need.WRITE)
    allowed = allowed_statuses(user, found)
    check_version(found, body.version)
    if body.status not in allowed:
        raise invalid_field(
            "status",
            _l(
                "Ogiltigt värde. Tillåtna värden: %(values)s.",
                values=", ".join(str(s) for s in allowed),
            ),
        )
    change = StatusChange(
        to_status=body.status,
        comment=body.comment,
        version=body.version,
        reason=body.reason,
        share_basis=body.share_basis or None,
        confirmed=tuple(body.share_confirmations),
        assessment=body.assessment,
    )
    with fields_named(PATCH_FIELDS):
        update_action(session, user, found, change)
    return _action_detail(session, user, found)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
