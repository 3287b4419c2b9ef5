"""Forms of the Bob case sync page. The personnummer travels in the POST body only.

The statements to confirm come from the legal bases (data, not code), so the confirmation
choices are filled in by the view: ``"<basis id>:<statement index>"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SubmitField
from wtforms.fields import StringField
from wtforms.validators import DataRequired, InputRequired, Length

from coordination.numbers import plain_int
from coordination.web.forms import (
    PRIVATE,
    REQUIRED,
    MultiCheckboxField,
    SelectChoice,
    choices,
    private_text_area,
)
from meetings.casesync.proposals import CHOOSABLE_REASONS, DeclineReason
from secrecy.policy.rules import LegalBasis
from secrecy.records.forms import assessment_field

DECLINE_REASON_LABELS = {
    DeclineReason.NOT_IN_AREA: _l("Bor inte i området"),
    DeclineReason.ALREADY_KNOWN_ELSEWHERE: _l("Hanteras redan i annat sammanhang"),
    DeclineReason.INSUFFICIENT_GROUNDS: _l("Inte tillräckliga skäl för Bob-rådet"),
    DeclineReason.OTHER: _l("Annat skäl"),
    DeclineReason.EXPIRED: _l("Obesvarat i tid, gallrat automatiskt"),
}
WITHHOLD = "none"


def confirmation_choices(bases: Iterable[LegalBasis]) -> list[SelectChoice]:
    return choices(
        (f"{basis.id}:{index}", statement)
        for basis in bases
        for index, statement in enumerate(basis.confirmations)
    )


def confirmed_by_basis(values: Sequence[str] | None) -> dict[str, list[int]]:
    """``["concern-report:0", ...]`` -> ``{"concern-report": [0], ...}``."""
    result: dict[str, list[int]] = {}
    for value in values or []:
        basis_id, _, text = value.rpartition(":")
        index = plain_int(text, max_digits=3)
        if basis_id and index is not None:
            result.setdefault(basis_id, []).append(index)
    return result


class CaseSubmissionForm(FlaskForm):
    personnummer = StringField(
        _l("Personnummer eller samordningsnummer"),
        validators=[DataRequired(REQUIRED), Length(max=20)],
        render_kw={**PRIVATE, "inputmode": "numeric"},
    )
    text = private_text_area(_l("Polisens uppgifter om den unge"), max_length=20000, rows=5)
    confirmations = MultiCheckboxField(_l("Förutsättningar för att lämna uppgifterna"))
    assessment = assessment_field()
    submit = SubmitField(_l("Anmäl inför mötet"))


class AcceptForm(FlaskForm):
    version = HiddenField()
    submit = SubmitField(_l("Skriv in i Bob-rådet"))


class DeclineForm(FlaskForm):
    reason = SelectField(
        _l("Skäl"),
        choices=choices((r.value, DECLINE_REASON_LABELS[r]) for r in CHOOSABLE_REASONS),
        validators=[InputRequired(REQUIRED)],
    )
    version = HiddenField()
    submit = SubmitField(_l("Avböj förslaget"))


class AnswerForm(FlaskForm):
    text = private_text_area(_l("Socialtjänstens svar"), max_length=20000, rows=4)
    basis = RadioField(_l("Lämnas svaret ut till polisen?"), validators=[InputRequired(REQUIRED)])
    confirmations = MultiCheckboxField(_l("Förutsättningar för att lämna ut svaret"))
    assessment = assessment_field()
    version = HiddenField()
    submit = SubmitField(_l("Spara svaret"))


def answer_basis_choices(bases: Iterable[LegalBasis]) -> list[SelectChoice]:
    return choices(
        [
            (WITHHOLD, _l("Nej: svaret registreras men lämnas inte ut")),
            *((b.id, _l("Ja, med stöd av %(reference)s", reference=b.reference)) for b in bases),
        ]
    )
