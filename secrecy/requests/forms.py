"""Forms of the information-request pages (texts travel in POST bodies only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from coordination.web.forms import REQUIRED, choices, label_choices
from secrecy.models import RequestStatus, RequestUrgency

URGENCY_LABELS = {
    RequestUrgency.NORMAL: _l("Normal"),
    RequestUrgency.URGENT: _l("Brådskande"),
}
STATUS_LABELS = {
    RequestStatus.OPEN: _l("Öppen"),
    RequestStatus.ANSWERED: _l("Besvarad"),
    RequestStatus.REFUSED: _l("Avslagen"),
}
ALL_CATEGORIES = ""  # "what you hold about the child"


class RequestForm(FlaskForm):
    owner_agency = SelectField(
        _l("Myndighet som tillfrågas"), coerce=int, validators=[DataRequired(REQUIRED)]
    )
    category = SelectField(_l("Vilka uppgifter"))
    basis = SelectField(_l("Rättslig grund som ni anser gäller"))
    urgency = SelectField(
        _l("Hur brådskande"),
        choices=label_choices(URGENCY_LABELS),
        default=RequestUrgency.NORMAL.value,
    )
    purpose = TextAreaField(
        _l("Vad uppgifterna behövs till"),
        validators=[DataRequired(REQUIRED), Length(max=5000)],
        render_kw={"rows": 5},
    )
    submit = SubmitField(_l("Skicka begäran"))


class CloseRequestForm(FlaskForm):
    outcome = SelectField(
        _l("Svar"),
        choices=choices(
            [
                (RequestStatus.ANSWERED.value, _l("Besvarad (det som kan lämnas ut är utlämnat)")),
                (RequestStatus.REFUSED.value, _l("Avslagen")),
            ]
        ),
    )
    note = TextAreaField(
        _l("Kommentar, eller skälet till avslaget (visas för den som begärde)"),
        validators=[Length(max=5000)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Avsluta begäran"))
