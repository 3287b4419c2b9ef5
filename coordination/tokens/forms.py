"""The API token form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
)


class ApiTokenForm(FlaskForm):
    name = StringField(
        _l("Namn"),
        validators=[DataRequired(_l("Ange ett namn.")), Length(max=80)],
        description=_l("Till exempel ”Ärendesystemet, polisen Malmö”."),
    )
    write = BooleanField(_l("Får också ändra (write), t.ex. uppdatera åtgärder"))
    lifetime_days = IntegerField(
        _l("Giltig i antal dagar"),
        default=90,
        validators=[
            InputRequired(_l("Ange antal dagar.")),
            NumberRange(min=1, max=366, message=_l("Ange 1–366 dagar.")),
        ],
    )
    submit = SubmitField(_l("Skapa token"))
