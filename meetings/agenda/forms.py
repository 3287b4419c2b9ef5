"""Forms of the meeting page and the calendar page (Flask-WTF, CSRF on every one).

Choices are validated by the services, not by WTForms, so a refused choice (a child of another
council, a user outside the council) gets the service's Swedish message next to the field.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SubmitField

from coordination.web.converters import MAX_DB_ID
from coordination.web.forms import choices, private_text_area
from meetings.models import AttendanceStatus, MeetingStatus

MEETING_STATUS_LABELS = {
    MeetingStatus.PLANNED: _l("Planerat"),
    MeetingStatus.HELD: _l("Genomfört"),
    MeetingStatus.CANCELLED: _l("Inställt"),
}
ATTENDANCE_LABELS = {
    AttendanceStatus.INVITED: _l("Kallad"),
    AttendanceStatus.PRESENT: _l("Närvarande"),
    AttendanceStatus.ABSENT: _l("Frånvarande"),
    AttendanceStatus.EXCUSED: _l("Anmält förhinder"),
}
SOURCE_LABELS = {
    "manual": _l("Anmäld"),
    "open_actions": _l("Öppna åtgärder"),
    "case_sync": _l("Ärendeavstämning"),
}


def lenient_int(value: Any) -> int:
    """Coerce a posted id; anything else, or a number beyond the ids the database holds, becomes
    0, which no row has (the service says why, next to the field)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 <= number <= MAX_DB_ID else 0


class AgendaItemForm(FlaskForm):
    child_id = SelectField(_l("Barn"), coerce=lenient_int, validate_choice=False)
    reason_category = SelectField(_l("Skäl"), validate_choice=False)
    brief = private_text_area(_l("Kort lägesbeskrivning"), max_length=4000, rows=4)
    submit = SubmitField(_l("Lägg till på dagordningen"))


class BriefForm(FlaskForm):
    """A brief for a child on the agenda without one (carried over by open actions)."""

    brief = private_text_area(_l("Kort lägesbeskrivning"), max_length=4000, rows=3)
    submit = SubmitField(_l("Spara lägesbeskrivningen"))


class MoveItemForm(FlaskForm):
    # "up", "down" or a position number; the position the page showed guards against stale pages.
    to = HiddenField()
    expected_position = HiddenField()


class AttendanceForm(FlaskForm):
    status = SelectField(
        _l("Närvaro"),
        choices=choices(
            (s.value, ATTENDANCE_LABELS[s])
            for s in (AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED)
        ),
        validate_choice=False,
    )
    submit = SubmitField(_l("Spara närvaro"))


class GuestForm(FlaskForm):
    user_id = SelectField(_l("Gäst"), coerce=lenient_int, validate_choice=False)
    submit = SubmitField(_l("Bjud in som gäst"))


class MeetingRolesForm(FlaskForm):
    chair_id = SelectField(_l("Ordförande"), coerce=lenient_int, validate_choice=False)
    minute_taker_id = SelectField(_l("Sekreterare"), coerce=lenient_int, validate_choice=False)
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class FeedTokenForm(FlaskForm):
    """A bare POST button: the form exists for its CSRF token."""

    submit = SubmitField(_l("Skapa kalenderlänk"))
