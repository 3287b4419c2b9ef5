"""The meeting page's services: who may open a meeting, attendance (invitations, statuses,
guests), chair and minute taker, and the agenda (children, sealed briefs, order, deadline).

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. The modules, each importing only those above it:

- ``access``: who may open and change a meeting, and the meeting-status guards;
- ``attendance``: invitations, attendance statuses, guests, chair and minute taker;
- ``deadline``: the agenda deadline in Swedish working days;
- ``items``: adding, ordering and removing agenda items with their sealed briefs;
- ``contributors``: the seam through which the minutes package adds children by itself;
- ``overview``: the agenda as one viewer may see it, briefs revealed through
``secrecy.records.reveal``.
"""

from meetings.agenda.access import (
    can_view_meeting,
    find_meeting,
    guest_attendance,
    is_meeting_coordinator,
)
from meetings.agenda.attendance import (
    SETTABLE_STATUSES,
    add_guest,
    ensure_invitations,
    guest_candidates,
    remove_guest,
    set_attendance,
    set_meeting_roles,
    uninvited_member_ids,
)
from meetings.agenda.contributors import (
    CONTRIBUTORS,
    OPEN_ACTIONS_CATEGORY,
    AgendaContributor,
    add_contributed_items,
    agenda_contributors,
    contributed_child_ids,
    register_agenda_contributor,
)
from meetings.agenda.deadline import (
    DEFAULT_DEADLINE_WORKING_DAYS,
    agenda_deadline,
    deadline_passed,
    is_working_day,
    working_days_before,
)
from meetings.agenda.items import (
    BRIEF_CATEGORY,
    EXCLUDED_REASON_CATEGORIES,
    MAX_BRIEF,
    add_agenda_item,
    addable_children,
    agenda_items,
    move_agenda_item,
    reason_categories,
    remove_agenda_item,
)
from meetings.agenda.overview import AgendaEntry, build_agenda

__all__ = [
    "BRIEF_CATEGORY",
    "CONTRIBUTORS",
    "DEFAULT_DEADLINE_WORKING_DAYS",
    "EXCLUDED_REASON_CATEGORIES",
    "MAX_BRIEF",
    "OPEN_ACTIONS_CATEGORY",
    "SETTABLE_STATUSES",
    "AgendaContributor",
    "AgendaEntry",
    "add_agenda_item",
    "add_contributed_items",
    "add_guest",
    "addable_children",
    "agenda_contributors",
    "agenda_deadline",
    "agenda_items",
    "build_agenda",
    "can_view_meeting",
    "contributed_child_ids",
    "deadline_passed",
    "ensure_invitations",
    "find_meeting",
    "guest_attendance",
    "guest_candidates",
    "is_meeting_coordinator",
    "is_working_day",
    "move_agenda_item",
    "reason_categories",
    "register_agenda_contributor",
    "remove_agenda_item",
    "remove_guest",
    "set_attendance",
    "set_meeting_roles",
    "uninvited_member_ids",
    "working_days_before",
]
