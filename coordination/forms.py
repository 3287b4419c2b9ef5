"""Flask-WTF forms (CSRF on every one). Labels and messages are Swedish through Flask-Babel."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from coordination.models import AgencyKind, CouncilKind, CouncilRole, Role

AGENCY_KIND_LABELS = {
    AgencyKind.SOCIAL_SERVICES: _l("Socialtjänst"),
    AgencyKind.POLICE: _l("Polis"),
    AgencyKind.SCHOOL: _l("Skola"),
    AgencyKind.LEISURE: _l("Fritid"),
    AgencyKind.DISABILITY_SUPPORT: _l("Funktionsstöd (LSS)"),
    AgencyKind.HEALTHCARE: _l("Hälso- och sjukvård"),
    AgencyKind.OTHER: _l("Annan verksamhet"),
}
ROLE_LABELS = {
    Role.ADMIN: _l("Administratör"),
    Role.COORDINATOR: _l("Samordnare"),
    Role.MEMBER: _l("Medlem"),
    Role.AUDITOR: _l("Logggranskare"),
}
COUNCIL_KIND_LABELS = {
    CouncilKind.BOB: _l("Bob-råd"),
    CouncilKind.SSPF: _l("SSPF"),
    CouncilKind.SIG: _l("SIG"),
}
COUNCIL_ROLE_LABELS = {
    CouncilRole.COORDINATOR: _l("Samordnare"),
    CouncilRole.MEMBER: _l("Medlem"),
}

REQUIRED = _l("Fältet måste fyllas i.")


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-postadress"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Lösenord"), validators=[DataRequired(REQUIRED), Length(max=1024)])
    submit = SubmitField(_l("Logga in"))


class TwoFactorForm(FlaskForm):
    code = StringField(
        _l("Kod från autentiseringsappen eller en reservkod"),
        validators=[DataRequired(REQUIRED), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
    submit = SubmitField(_l("Fortsätt"))


class EnrolTwoFactorForm(FlaskForm):
    code = StringField(
        _l("Sexsiffrig kod från appen"),
        validators=[DataRequired(REQUIRED), Length(min=6, max=7)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Aktivera tvåfaktorsinloggning"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Nuvarande lösenord"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(
        _l("Nytt lösenord (minst 12 tecken)"),
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Upprepa det nya lösenordet"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("Lösenorden är inte lika."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Byt lösenord"))


class ConfirmForm(FlaskForm):
    """A bare POST button: the form exists for its CSRF token."""

    submit = SubmitField(_l("Bekräfta"))


class LocaleForm(FlaskForm):
    locale = SelectField(choices=choices([("sv", "Svenska"), ("en", "English")]))
    submit = SubmitField(_l("Byt språk"))


class AgencyForm(FlaskForm):
    kind = SelectField(
        _l("Typ av verksamhet"),
        choices=choices((k.value, label) for k, label in AGENCY_KIND_LABELS.items()),
        validators=[InputRequired(REQUIRED)],
    )
    name = StringField(_l("Namn"), validators=[DataRequired(REQUIRED), Length(max=200)])
    osl_applies = BooleanField(
        _l("Omfattas av offentlighets- och sekretesslagen (offentlig verksamhet)"), default=True
    )
    active = BooleanField(_l("Aktiv"), default=True)
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
    roles = MultiCheckboxField(
        _l("Roller"), choices=choices((r.value, label) for r, label in ROLE_LABELS.items())
    )
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class CouncilForm(FlaskForm):
    kind = SelectField(
        _l("Typ av forum"),
        choices=choices((k.value, label) for k, label in COUNCIL_KIND_LABELS.items()),
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
    active = BooleanField(_l("Aktivt"), default=True)
    version = HiddenField()
    submit = SubmitField(_l("Spara"))


class AddMemberForm(FlaskForm):
    user_id = SelectField(_l("Användare"), coerce=int, validators=[InputRequired(REQUIRED)])
    council_role = SelectField(
        _l("Roll i forumet"),
        choices=choices((r.value, label) for r, label in COUNCIL_ROLE_LABELS.items()),
        default=CouncilRole.MEMBER.value,
    )
    submit = SubmitField(_l("Lägg till"))


class MemberRoleForm(FlaskForm):
    council_role = SelectField(
        _l("Roll i forumet"),
        choices=choices((r.value, label) for r, label in COUNCIL_ROLE_LABELS.items()),
    )
    submit = SubmitField(_l("Ändra roll"))


def parse_version(raw: str | None) -> int | None:
    """The version the form was loaded with; a tampered value counts as a conflict."""
    try:
        return int(raw) if raw else None
    except ValueError:
        return -1


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
