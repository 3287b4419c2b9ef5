"""Forms of the secrecy pages. Personal data travels in POST bodies only, never in URLs."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from coordination.models import CloseReason
from coordination.web.forms import (
    AGENCY_KIND_LABELS,
    PRIVATE,
    REQUIRED,
    SelectChoice,
    choices,
    label_choices,
    private_line,
    private_text_area,
    sane_date,
)
from secrecy.agerules.forms import ExceptionFields
from secrecy.models import ConsentRevokeReason, DisclosureEndReason
from secrecy.policy.categories import IDENTITY, categories, writable_by_hand

CLOSE_REASON_LABELS = {
    CloseReason.GOALS_REACHED: _l("Målen är uppnådda"),
    CloseReason.MOVED: _l("Har flyttat"),
    CloseReason.AGE_LIMIT: _l("Har passerat forumets åldersgräns"),
    CloseReason.CONSENT_WITHDRAWN: _l("Samtycket har återkallats"),
    CloseReason.TRANSFERRED: _l("Har förts över till annan verksamhet"),
    CloseReason.OTHER: _l("Annat skäl"),
    CloseReason.DUPLICATE: _l("Dubblett i forumet"),
}
# Closing as a duplicate is the coordinators' decision on a held duplicate (secrecy.duplicates),
# not a reason the close form offers.
CHOOSABLE_CLOSE_REASONS = [r for r in CLOSE_REASON_LABELS if r is not CloseReason.DUPLICATE]


ASSESSMENT_TOO_LONG = _l("Bedömningen är för lång (högst 10 000 tecken).")


def assessment_field() -> TextAreaField:
    """The written assessment behind the disclosures a meeting form decides (one text for all
    the recipients chosen); the disclosure service says when it is missing or too short."""
    return TextAreaField(
        _l("Er bedömning i det enskilda fallet"),
        validators=[Optional(), Length(max=10_000, message=ASSESSMENT_TOO_LONG)],
        render_kw={**PRIVATE, "rows": 3},
    )


def _guardian_email(label: str) -> EmailField:
    """A guardian's e-mail address, optional; the browser keeps no copy of it."""
    return EmailField(
        label,
        validators=[Optional(), Email(_l("Ange en giltig e-postadress.")), Length(max=254)],
        render_kw=PRIVATE,
    )


class IdentityForm(FlaskForm):
    given_names = StringField(
        _l("Förnamn"), validators=[DataRequired(REQUIRED), Length(max=200)], render_kw=PRIVATE
    )
    family_name = StringField(
        _l("Efternamn"), validators=[DataRequired(REQUIRED), Length(max=200)], render_kw=PRIVATE
    )
    personnummer = StringField(
        _l("Personnummer eller samordningsnummer"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={**PRIVATE, "inputmode": "numeric"},
    )
    guardian1_name = private_line(_l("Vårdnadshavare 1, namn"), max_length=200)
    guardian1_phone = private_line(_l("Vårdnadshavare 1, telefon"), max_length=40)
    guardian1_email = _guardian_email(_l("Vårdnadshavare 1, e-post"))
    guardian2_name = private_line(_l("Vårdnadshavare 2, namn"), max_length=200)
    guardian2_phone = private_line(_l("Vårdnadshavare 2, telefon"), max_length=40)
    guardian2_email = _guardian_email(_l("Vårdnadshavare 2, e-post"))
    address = TextAreaField(
        _l("Adress"), validators=[Optional(), Length(max=500)], render_kw={**PRIVATE, "rows": 3}
    )
    submit = SubmitField(_l("Spara"))


class EnrolForm(IdentityForm, ExceptionFields):
    """Enrolment: the identity, and an exception when the child's age is outside the
    council's target range."""


def category_choices(locale: str, *, include_identity: bool = False) -> list[SelectChoice]:
    return choices(
        (c.key, c.label(locale))
        for c in categories().values()
        if (include_identity and c.key == IDENTITY) or writable_by_hand(c.key)
    )


class RecordForm(FlaskForm):
    category = SelectField(_l("Kategori"), validators=[DataRequired(REQUIRED)])
    text = private_text_area(_l("Uppgift"), max_length=20000, rows=5)
    submit = SubmitField(_l("Spara uppgiften"))


class CorrectionForm(FlaskForm):
    text = private_text_area(_l("Rättad uppgift"), max_length=20000, rows=5)
    submit = SubmitField(_l("Spara rättelsen"))


class CloseCaseForm(FlaskForm):
    reason = SelectField(
        _l("Skäl"),
        choices=choices((r.value, CLOSE_REASON_LABELS[r]) for r in CHOOSABLE_CLOSE_REASONS),
        validators=[DataRequired(REQUIRED)],
    )
    submit = SubmitField(_l("Avsluta ärendet"))


CONSENT_REVOKE_LABELS = {
    ConsentRevokeReason.WITHDRAWN_BY_GUARDIAN: _l("Vårdnadshavare har återkallat"),
    ConsentRevokeReason.WITHDRAWN_BY_YOUNG_PERSON: _l("Den unge har återkallat"),
    ConsentRevokeReason.REGISTERED_IN_ERROR: _l("Registrerades av misstag"),
    ConsentRevokeReason.OTHER: _l("Annat skäl"),
}
DISCLOSURE_END_LABELS = {
    DisclosureEndReason.NO_LONGER_NEEDED: _l("Behövs inte längre"),
    DisclosureEndReason.DECIDED_IN_ERROR: _l("Beslutades av misstag"),
    DisclosureEndReason.OTHER: _l("Annat skäl"),
}


class ConsentForm(FlaskForm):
    guardian_1 = private_line(_l("Vårdnadshavare 1 har skrivit under (namn)"), max_length=200)
    guardian_2 = private_line(_l("Vårdnadshavare 2 har skrivit under (namn)"), max_length=200)
    young_person = private_line(_l("Den unge har skrivit under (namn)"), max_length=200)
    custody = SelectField(
        _l("Vårdnad"),
        choices=choices(
            [("two", _l("Gemensam vårdnad (två vårdnadshavare)")), ("one", _l("En vårdnadshavare"))]
        ),
    )
    agency_ids = SelectMultipleField(_l("Mottagare som samtycket omfattar"), coerce=int)
    agency_kinds = SelectMultipleField(
        _l("… eller alla mottagare av typen"),
        choices=label_choices(AGENCY_KIND_LABELS),
    )
    categories = SelectMultipleField(_l("Slags uppgifter som samtycket omfattar"))
    valid_from = DateField(_l("Gäller från"), validators=[DataRequired(REQUIRED), sane_date])
    valid_to = DateField(_l("Gäller till och med"), validators=[Optional(), sane_date])
    purpose = private_text_area(_l("Syfte"), max_length=500, rows=2)
    form_location = private_line(_l("Var den underskrivna blanketten förvaras"), max_length=300)
    maturity_assessment = TextAreaField(
        _l(
            "Mognadsbedömning: den unge (15–17 år) har tillräcklig mognad att samtycka ensam, "
            "därför att …"
        ),
        validators=[Optional(), Length(max=2000)],
        render_kw={**PRIVATE, "rows": 3},
    )
    submit = SubmitField(_l("Registrera samtycket"))


class ConsentRevokeForm(FlaskForm):
    reason = SelectField(
        _l("Skäl"),
        choices=label_choices(CONSENT_REVOKE_LABELS),
    )
    submit = SubmitField(_l("Återkalla samtycket"))


class DisclosureRevokeForm(FlaskForm):
    reason = SelectField(
        _l("Skäl"),
        choices=label_choices(DISCLOSURE_END_LABELS),
    )
    submit = SubmitField(_l("Återkalla"))
