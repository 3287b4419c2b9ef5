"""Forms of signing in and of the user's own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
)

from coordination.web.forms import REQUIRED, choices


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


class ReplaceTwoFactorForm(EnrolTwoFactorForm):
    """Replacing an authenticator: the password or a code from the current one first."""

    current = PasswordField(
        _l("Ditt lösenord eller en kod från den nuvarande appen"),
        validators=[DataRequired(REQUIRED), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Byt autentiseringsapp"))


class NewPasswordForm(FlaskForm):
    """A new password, typed twice (the browser may suggest one)."""

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


class StartPasswordForm(NewPasswordForm):
    """The user's own password in place of the start password an administrator gave."""

    submit = SubmitField(_l("Spara lösenordet"))


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(_l("Nuvarande lösenord"), validators=[DataRequired(REQUIRED)])
    submit = SubmitField(_l("Byt lösenord"))


class LocaleForm(FlaskForm):
    locale = SelectField(choices=choices([("sv", "Svenska"), ("en", "English")]))
    submit = SubmitField(_l("Byt språk"))
