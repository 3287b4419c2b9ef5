"""Who may see and change an agreed action, and ``action_for``: the one loader of the pages
and the API.

An action's metadata (child, responsible agency, due date, status) is visible to every member of
the child's council. Users of the responsible agency update the actions their agency owns; the
council's coordinators may cancel. Ended actions (done, not done, cancelled) stay ended.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Agency, Council, CouncilRole, User
from coordination.policy import Need, can_view_council, membership_in
from minutes.actions.lists import ActionRow
from minutes.models import ActionStatus, AgreedAction
from secrecy.models import Record

# Ended is ended: a wrongly closed action is followed up as a new action at the next meeting.
TRANSITIONS: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.OPEN: frozenset(
        {
            ActionStatus.IN_PROGRESS,
            ActionStatus.DONE,
            ActionStatus.NOT_DONE,
            ActionStatus.CANCELLED,
        }
    ),
    ActionStatus.IN_PROGRESS: frozenset(
        {ActionStatus.DONE, ActionStatus.NOT_DONE, ActionStatus.CANCELLED}
    ),
    ActionStatus.DONE: frozenset(),
    ActionStatus.NOT_DONE: frozenset(),
    ActionStatus.CANCELLED: frozenset(),
}


def can_view_action(user: User, action: AgreedAction) -> bool:
    """Metadata: every member of the child's council."""
    return can_view_council(user, action.child.council)


def is_council_coordinator(user: User, council: Council) -> bool:
    membership = membership_in(user, council)
    return (
        user.is_active
        and membership is not None
        and membership.council_role is CouncilRole.COORDINATOR
    )


def can_update_action(user: User, action: AgreedAction) -> bool:
    """Members of the council who belong to the responsible agency."""
    return can_view_action(user, action) and user.agency_id == action.responsible_agency_id


def can_cancel_action(user: User, action: AgreedAction) -> bool:
    return is_council_coordinator(user, action.child.council)


def allowed_statuses(user: User, action: AgreedAction | ActionRow) -> list[ActionStatus]:
    """The statuses this user may move the action to now, in workflow order: members of the
    council who belong to the responsible agency update, the council's coordinators cancel."""
    if not user.is_active:
        return []
    if isinstance(action, ActionRow):
        role: CouncilRole | None = action.viewer_council_role  # the list was made for the user
    else:
        membership = membership_in(user, action.child.council)
        role = membership.council_role if membership is not None else None
    if role is None:
        return []
    may_update = user.agency_id == action.responsible_agency_id
    may_cancel = role is CouncilRole.COORDINATOR
    allowed = TRANSITIONS[action.status]
    return [
        status
        for status in ActionStatus
        if status in allowed and (may_cancel if status is ActionStatus.CANCELLED else may_update)
    ]


def comment_recipient(actor: User, action: AgreedAction, description: Record) -> Agency | None:
    """The agency a comment may be disclosed to: the agency that owns the description (the
    action's owner), or else the responsible agency; None when the actor's agency is both."""
    if description.owner_agency_id != actor.agency_id:
        return description.owner_agency
    if action.responsible_agency_id != actor.agency_id:
        return action.responsible_agency
    return None


def action_for(
    session: Session, actor: User, action_id: int, need: Need = Need.VIEW
) -> AgreedAction:
    """The action, loaded for ``need``, or a refusal: ``NotFound`` for an unknown id and
    ``PermissionDenied`` for one the actor may not use, which pages and API answer alike (403,
    logged by their wrapper).

    VIEW: the members of the child's council (the metadata; description and comments are
    revealed separately). WRITE: whoever may change its status now: the responsible agency's
    members of the council update it, the council's coordinators cancel it, and an ended
    action takes no change from anyone.
    """
    action = get_or_not_found(session, AgreedAction, action_id, "agreed_action")
    if need is Need.VIEW:
        allowed = can_view_action(actor, action)
    elif need is Need.WRITE:
        allowed = can_view_action(actor, action) and bool(allowed_statuses(actor, action))
    else:
        raise ValueError(f"action_for cannot decide {need}")
    if not allowed:
        raise PermissionDenied(object_type="agreed_action", object_ids=[action_id])
    return action
