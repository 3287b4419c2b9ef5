"""The administrator's forms: agencies, users, councils."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from coordination.web.forms import (
    AGENCY_KIND_LABELS,
    COUNCIL_KIND_LABELS,
    REQUIRED,
    ROLE_LABELS,
    MultiCheckboxField,
    label_choices,
)


class AgencyForm(FlaskForm):
    kind = SelectField(
        _l("Typ av verksamhet"),
        choices=label_choices(AGENCY_KIND_LABELS),
        validators=[InputRequired(REQUIRED)],
    )
    name = StringField(_l("Namn"), validators=[DataRequired(REQUIRED), Length(max=200)])
    osl_applies = BooleanField(
        _l("Omfattas av offentlighets- och sekretesslagen (offentlig verksamhet)"), default=True
    )
    active = BooleanField(_l("Aktiv"), default=True)
    authority_name = StringField(
        _l("Myndighet (nämnd eller styrelse)"), validators=[Optional(), Length(max=200)]
    )
    authority_org_number = StringField(
        _l("Myndighetens organisationsnummer"), validators=[Optional(), Length(max=11)]
    )
    independent_branch = BooleanField(
        _l("Självständig verksamhetsgren inom myndigheten (sekretess gäller mot resten)"),
        default=True,
    )
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class UserForm(FlaskForm):
    agency_id = SelectField(_l("Myndighet"), coerce=int, validators=[InputRequired(REQUIRED)])
    email = EmailField(
        _l("E-postadress"),
        validators=[
            DataRequired(REQUIRED),
            Email(_l("Ange en giltig e-postadress.")),
            Length(max=254),
        ],
    )
    display_name = StringField(_l("Namn"), validators=[DataRequired(REQUIRED), Length(max=200)])
    password = PasswordField(
        _l("Startlösenord (minst 12 tecken)"),
        validators=[Optional(), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    roles = MultiCheckboxField(_l("Roller"), choices=label_choices(ROLE_LABELS))
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class CouncilForm(FlaskForm):
    kind = SelectField(
        _l("Typ av forum"),
        choices=label_choices(COUNCIL_KIND_LABELS),
        validators=[InputRequired(REQUIRED)],
    )
    name = StringField(_l("Namn"), validators=[DataRequired(REQUIRED), Length(max=200)])
    area = StringField(_l("Område"), validators=[DataRequired(REQUIRED), Length(max=200)])
    code = StringField(
        _l("Kod i pseudonymer (t.ex. NORR)"), validators=[DataRequired(REQUIRED), Length(max=12)]
    )
    agency_ids = MultiCheckboxField(_l("Deltagande myndigheter"), coerce=int)
    retention_months = IntegerField(
        _l("Gallring, månader efter att ett ärende avslutats"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(0, 600, _l("Ange ett antal månader mellan 0 och 600.")),
        ],
    )
    maturity_consent = BooleanField(
        _l(
            "Lokal regel för samtycke: en ung person som är 15–17 år får samtycka ensam efter "
            "en dokumenterad mognadsbedömning"
        ),
        default=False,
    )
    request_flag_days = IntegerField(
        _l("Påminnelse om obesvarad begäran om uppgifter, dagar"),
        validators=[
            Optional(),
            NumberRange(1, 365, _l("Ange ett antal dagar mellan 1 och 365.")),
        ],
    )
    assessment_interval_days = IntegerField(
        _l("Påminnelse om ny strukturerad bedömning, dagar"),
        validators=[
            Optional(),
            NumberRange(7, 730, _l("Ange ett antal dagar mellan 7 och 730.")),
        ],
    )
    active = BooleanField(_l("Aktivt"), default=True)
    version = HiddenField()
    submit = SubmitField(_l("Spara"))
