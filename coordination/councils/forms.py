"""A council's member forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    SubmitField,
)
from wtforms.validators import (
    InputRequired,
)

from coordination.models import CouncilRole
from coordination.web.forms import COUNCIL_ROLE_LABELS, MultiCheckboxField, label_choices


class AddMemberForm(FlaskForm):
    """Several people at once, all with the same role in the council."""

    user_id = MultiCheckboxField(
        _l("Användare"),
        coerce=int,
        validators=[InputRequired(_l("Välj minst en användare."))],
    )
    council_role = SelectField(
        _l("Roll i forumet"),
        choices=label_choices(COUNCIL_ROLE_LABELS),
        default=CouncilRole.MEMBER.value,
    )
    submit = SubmitField(_l("Lägg till i forumet"))


class MemberRoleForm(FlaskForm):
    council_role = SelectField(
        _l("Roll i forumet"),
        choices=label_choices(COUNCIL_ROLE_LABELS),
    )
    submit = SubmitField(_l("Ändra roll"))
