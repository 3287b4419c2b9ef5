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
from wtforms.validators import InputRequired, Length

from coordination.web.forms import (
    PRIVATE,
    REQUIRED,
    MultiCheckboxField,
    label_choices,
    private_line,
    sane_date,
)
from meetings.network.labels import KIND_LABELS, PURPOSE_LABELS, ROLE_LABELS, STATUS_LABELS
from meetings.schedules.forms import _TimesMixin


class NetworkMeetingForm(_TimesMixin, FlaskForm):
    child_id = SelectField(_l("Barn (pseudonym)"), validate_choice=False)
    kind = SelectField(
        _l("Slags möte"),
        choices=label_choices(KIND_LABELS),
        validate_choice=False,
    )
    purpose = SelectField(
        _l("Vad mötet är till för (står i kallelsen)"),
        choices=label_choices(PURPOSE_LABELS),
        validate_choice=False,
    )
    day = DateField(_l("Datum"), validators=[InputRequired(REQUIRED), sane_date])
    agency_ids = MultiCheckboxField(_l("Myndigheter som kallas"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Kalla till nätverksmöte"))


class ParticipantForm(FlaskForm):
    role = SelectField(
        _l("Roll"),
        choices=label_choices(ROLE_LABELS),
        validate_choice=False,
    )
    name = StringField(
        _l("Namn"), validators=[InputRequired(REQUIRED), Length(max=200)], render_kw=PRIVATE
    )
    email = private_line(_l("E-post (valfritt)"), max_length=254)
    submit = SubmitField(_l("Lägg till deltagare"))


class ParticipantStatusForm(FlaskForm):
    status = SelectField(
        _l("Närvaro"),
        choices=label_choices(STATUS_LABELS),
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
