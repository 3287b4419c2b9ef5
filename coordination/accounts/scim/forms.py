"""The form that creates a SCIM client."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class ScimClientForm(FlaskForm):
    name = StringField(
        _l("Namn"),
        validators=[DataRequired(_l("Ange ett namn.")), Length(max=80)],
        description=_l("Till exempel ”Entra ID, kommunens katalog”."),
    )
    submit = SubmitField(_l("Skapa SCIM-klient"))
