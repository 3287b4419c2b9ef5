"""Who may plan a council's meetings, and the checks on time and place that schedules and single
meetings share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from coordination.errors import PermissionDenied, ServiceError
from coordination.models import Council, CouncilRole, User
from coordination.policy import membership_in

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 12 * 60


# --- Who may plan -------------------------------------------------------------------------------


def can_manage_schedules(user: User | None, council: Council) -> bool:
    """The council's coordinators own its schedule and meetings. Administrators manage the
    structure (councils, members) but plan no meetings unless they are a coordinator too."""
    if user is None or not user.is_active:
        return False
    membership = membership_in(user, council)
    return membership is not None and membership.council_role is CouncilRole.COORDINATOR


def require_coordinator(actor: User, council: Council) -> None:
    if not can_manage_schedules(actor, council):
        raise PermissionDenied()


# --- Input checks -------------------------------------------------------------------------------


def check_video_link(link: str | None) -> str | None:
    link = (link or "").strip()
    if not link:
        return None
    parts = urlsplit(link)
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or any(char.isspace() for char in link)
        or len(link) > 500
    ):
        raise ServiceError(
            _l("Ange en fullständig videolänk som börjar med https://."), field="video_link"
        )
    return link


def check_place(location: str | None, video_link: str | None) -> tuple[str | None, str | None]:
    place = (location or "").strip() or None
    if place is not None and len(place) > 300:
        raise ServiceError(_l("Platsen får vara högst 300 tecken."), field="location")
    link = check_video_link(video_link)
    if place is None and link is None:
        raise ServiceError(_l("Ange en plats, en videolänk eller båda."), field="location")
    return place, link


def check_duration(minutes: int) -> int:
    # The form asks for an end time; the duration is the difference.
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise ServiceError(
            _l("Mötet ska vara mellan 5 minuter och 12 timmar långt."), field="end_time"
        )
    return minutes
