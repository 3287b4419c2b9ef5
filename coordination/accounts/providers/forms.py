"""The administrator's forms for an agency's sign-in: the provider, the assurance, links."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: types-WTForms 3.2 lacks it
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from coordination.accounts.providers.assurance import ASSURANCE_LABELS, Assurance
from coordination.web.forms import REQUIRED, choices

NO_LEVEL = _l("Ingen särskild nivå")


def _level_choices(minimum: Assurance = Assurance.LOA1) -> list[SelectChoice]:
    return choices(
        [("", NO_LEVEL)]
        + [(level.code, label) for level, label in ASSURANCE_LABELS.items() if level >= minimum]
    )


def _claim_field(label: str) -> StringField:
    """The name of one claim in the provider's tokens (empty: the protocol's usual claim)."""
    return StringField(label, validators=[Optional(), Length(max=100)])


def parse_acr_levels(text: str) -> dict[str, str]:
    """Lines ``<acr> = loa3``: the provider's own acr values and the level each stands for."""
    levels: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        acr, sep, level = line.rpartition("=")
        acr, level = acr.strip(), level.strip().lower()
        if not sep or not acr or level not in {a.code for a in Assurance}:
            raise ValueError(line.strip())
        levels[acr] = level
    return levels


class ProviderForm(FlaskForm):
    kind = SelectField(
        _l("Protokoll"),
        choices=choices([("oidc", _l("OpenID Connect")), ("saml", _l("SAML 2.0 (Web SSO)"))]),
        default="oidc",
    )
    display_name = StringField(
        _l("Organisationens namn på knappen (”Logga in med …”)"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    issuer = StringField(
        _l("Utfärdare (OpenID Connect) eller adress till metadata (SAML)"),
        validators=[Optional(), Length(max=500)],
    )
    metadata_xml = TextAreaField(
        _l("SAML-metadata (om den inte kan hämtas från en adress)"),
        validators=[Optional(), Length(max=1_000_000)],
    )
    client_id = StringField(_l("Klient-id"), validators=[Optional(), Length(max=200)])
    client_secret_env = StringField(
        _l("Miljövariabel med klienthemligheten"),
        validators=[
            Optional(),
            Length(max=100),
            Regexp(
                r"^[A-Z][A-Z0-9_]*$",
                message=_l("Namnet på en miljövariabel: versaler, siffror och understreck."),
            ),
        ],
    )
    claim_subject = _claim_field(_l("Anspråk med den stabila identiteten"))
    claim_name = _claim_field(_l("Anspråk med namnet"))
    claim_email = _claim_field(_l("Anspråk med e-postadressen"))
    claim_acr = _claim_field(_l("Anspråk med tillitsnivån"))
    acr_levels = TextAreaField(
        _l("Tjänstens egna acr-värden, ett per rad: värde = loa2, loa3 eller loa4"),
        validators=[Optional(), Length(max=4000)],
    )
    requested_acr = StringField(
        _l("Begärd tillitsnivå vid inloggning (acr_values, tomt: tjänstens standard)"),
        validators=[Optional(), Length(max=200)],
    )
    minimum_assurance = SelectField(
        _l("Lägsta tillitsnivå för att logga in"), choices=_level_choices()
    )
    jit_provisioning = BooleanField(
        _l("Skapa konto vid första inloggningen (väntar på godkännande, utan roller)")
    )
    enabled = BooleanField(_l("Inloggning med tjänsten är påslagen"), default=True)
    version = HiddenField()
    submit = SubmitField(_l("Kontrollera och spara"))

    def validate_acr_levels(self, field: TextAreaField) -> None:
        try:
            parse_acr_levels(field.data or "")
        except ValueError as exc:
            # gettext, not a lazy string: Flask-Babel's lazy strings count as safe HTML, and
            # the line is the administrator's input.
            raise ValidationError(
                _("Raden ”%(line)s” ska vara: värde = loa2, loa3 eller loa4.", line=str(exc)[:80])
            ) from exc


class AgencyAssuranceForm(FlaskForm):
    required_assurance = SelectField(
        _l("Tillitsnivå som krävs för att visa uppgifter om barn"),
        choices=_level_choices(Assurance.LOA2),
    )
    version = HiddenField()
    submit = SubmitField(_l("Spara tillitsnivån"))


class LinkIdentityForm(FlaskForm):
    user_id = SelectField(_l("Användare"), coerce=int, validators=[DataRequired(REQUIRED)])
    subject = StringField(
        _l("Identitet hos inloggningstjänsten (sub)"),
        validators=[DataRequired(REQUIRED), Length(max=255)],
    )
    submit = SubmitField(_l("Koppla"))


class SamlResponseForm(FlaskForm):
    """The provider's response handed on to this site (no CSRF token: see the views)."""

    class Meta:
        csrf = False

    SAMLResponse = HiddenField()
    RelayState = HiddenField()
    submit = SubmitField(_l("Fortsätt"))
