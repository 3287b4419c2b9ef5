"""Forms of the schedule pages: a schedule, one meeting's time and place, a cancellation."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TimeField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from coordination.web.forms import REQUIRED, label_choices, validated
from meetings.schedules.rules import Preset, preset_rule

PRESET_LABELS = {
    Preset.SECOND_WEDNESDAY: _l("Andra onsdagen varje månad"),
    Preset.FIRST_TUESDAY: _l("Första tisdagen varje månad"),
    Preset.EVERY_OTHER_WEEK: _l("Varannan vecka, på första datumets veckodag"),
    Preset.CUSTOM: _l("Egen regel (RRULE)"),
}


class _EndAfterStart:
    """The end time is the same day, after the start (meetings do not run past midnight)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        start = form.start_time.data
        if start is not None and field.data is not None and field.data <= start:
            raise ValidationError(_l("Sluttiden måste vara efter starttiden."))


def minutes_between(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


class _TimesMixin:
    start_time = TimeField(
        _l("Starttid"), validators=[InputRequired(REQUIRED)], render_kw={"step": 300}
    )
    end_time = TimeField(
        _l("Sluttid"),
        validators=[InputRequired(REQUIRED), _EndAfterStart()],
        render_kw={"step": 300},
    )
    location = StringField(_l("Plats"), validators=[Optional(), Length(max=300)])
    video_link = URLField(
        _l("Videolänk (https://…)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"inputmode": "url"},
    )

    @property
    def duration_minutes(self) -> int:
        return minutes_between(validated(self.start_time.data), validated(self.end_time.data))


class ScheduleForm(_TimesMixin, FlaskForm):
    name = StringField(
        _l("Namn"),
        validators=[InputRequired(REQUIRED), Length(max=200)],
        default=_l("Ordinarie möten"),
    )
    preset = SelectField(
        _l("Upprepning"),
        choices=label_choices(PRESET_LABELS),
        default=Preset.SECOND_WEDNESDAY.value,
    )
    rrule = StringField(
        _l("Egen regel (RRULE)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    starts_on = DateField(_l("Första datum"), validators=[InputRequired(REQUIRED)])
    ends_on = DateField(_l("Sista datum (valfritt)"), validators=[Optional()])
    active = BooleanField(_l("Aktiv"), default=True)
    version = HiddenField()
    submit = SubmitField(_l("Spara"))

    def rule_text(self) -> str:
        """The rule the form stands for: the preset's, or the custom text as typed."""
        try:
            preset = Preset(self.preset.data)
        except ValueError:
            preset = Preset.CUSTOM
        return preset_rule(preset, validated(self.starts_on.data)) or (self.rrule.data or "")


class MeetingTimeForm(_TimesMixin, FlaskForm):
    day = DateField(_l("Datum"), validators=[InputRequired(REQUIRED)])
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class CancelMeetingForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField(_l("Ställ in mötet"))
