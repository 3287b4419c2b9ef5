"""Forms of the network meeting pages. Choices the service checks (the child, the codes) are
not checked by WTForms, so a refusal is the service's clear Swedish message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from coordination.web.forms import REQUIRED, MultiCheckboxField, choices, sane_date
from meetings.network.labels import KIND_LABELS, PURPOSE_LABELS, ROLE_LABELS, STATUS_LABELS
from meetings.schedules.forms import _TimesMixin

PRIVATE = {"autocomplete": "off"}


class NetworkMeetingForm(_TimesMixin, FlaskForm):
    child_id = SelectField(_l("Barn (pseudonym)"), validate_choice=False)
    kind = SelectField(
        _l("Slags möte"),
        choices=choices((k.value, label) for k, label in KIND_LABELS.items()),
        validate_choice=False,
    )
    purpose = SelectField(
        _l("Vad mötet är till för (står i kallelsen)"),
        choices=choices((p.value, label) for p, label in PURPOSE_LABELS.items()),
        validate_choice=False,
    )
    day = DateField(_l("Datum"), validators=[InputRequired(REQUIRED), sane_date])
    agency_ids = MultiCheckboxField(_l("Myndigheter som kallas"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Kalla till nätverksmöte"))


class ParticipantForm(FlaskForm):
    role = SelectField(
        _l("Roll"),
        choices=choices((r.value, label) for r, label in ROLE_LABELS.items()),
        validate_choice=False,
    )
    name = StringField(
        _l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)], render_kw=PRIVATE
    )
    email = StringField(
        _l("E-post (valfritt)"), validators=[Optional(), Length(max=254)], render_kw=PRIVATE
    )
    submit = SubmitField(_l("Lägg till deltagare"))


class ParticipantStatusForm(FlaskForm):
    status = SelectField(
        _l("Närvaro"),
        choices=choices((s.value, label) for s, label in STATUS_LABELS.items()),
        validate_choice=False,
    )
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class VoiceForm(FlaskForm):
    voice = TextAreaField(
        _l("Barnets/den unges röst"),
        validators=[InputRequired(REQUIRED), Length(max=4000)],
        render_kw={**PRIVATE, "rows": 4},
    )
    submit = SubmitField(_l("Spara barnets röst"))


class LetterForm(FlaskForm):
    submit = SubmitField(_l("Skriv kallelse"))
