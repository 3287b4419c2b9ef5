"""Forms of the meeting workspace. Each child's forms carry a prefix so that one page can hold
a form per agenda item without clashing field ids. Disclosure choices (which attending agency,
under which basis, which statements confirmed) are read from the posted form by ``share_choices``
and ``confirmed``."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from coordination.numbers import plain_int
from coordination.web.forms import REQUIRED, label_choices, sane_date
from coordination.web.params import ticked_indexes
from minutes.models import ActionStatus, AmendmentReason, EntryKind, MinutesStatus
from minutes.workspace.sharing import ShareChoice
from secrecy.records.forms import assessment_field

MAX_TEXT = 20_000

ENTRY_KIND_LABELS = {EntryKind.ENTRY: _l("Anteckning"), EntryKind.DECISION: _l("Beslut")}
AMENDMENT_REASON_LABELS = {
    AmendmentReason.FACTUAL_ERROR: _l("Sakfel"),
    AmendmentReason.OMISSION: _l("Något saknades"),
    AmendmentReason.WRONG_CHILD: _l("Fel barn"),
    AmendmentReason.OTHER: _l("Annat skäl"),
}
TEXT_TOO_LONG = _l("Texten är för lång (högst 20 000 tecken).")


def minutes_text(label: str) -> TextAreaField:
    """A required text written into the minutes (an entry, a correction, an action), at most
    ``MAX_TEXT`` characters."""
    return TextAreaField(
        label, validators=[DataRequired(REQUIRED), Length(max=MAX_TEXT, message=TEXT_TOO_LONG)]
    )


class EntryForm(FlaskForm):
    kind = SelectField(
        _l("Typ"),
        choices=label_choices(ENTRY_KIND_LABELS),
        default=EntryKind.ENTRY.value,
        validators=[DataRequired(REQUIRED)],
    )
    category = SelectField(_l("Kategori"), validators=[DataRequired(REQUIRED)])
    text = minutes_text(_l("Text"))
    assessment = assessment_field()
    submit = SubmitField(_l("Lägg till i protokollet"))


class EditEntryForm(FlaskForm):
    text = minutes_text(_l("Ny text"))
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(REQUIRED)])
    assessment = assessment_field()
    submit = SubmitField(_l("Spara ändringen"))


class AmendForm(FlaskForm):
    reason = SelectField(
        _l("Skäl"),
        choices=label_choices(AMENDMENT_REASON_LABELS),
        validators=[DataRequired(REQUIRED)],
    )
    text = minutes_text(_l("Rättad text"))
    assessment = assessment_field()
    submit = SubmitField(_l("Spara rättelsen"))


class ActionForm(FlaskForm):
    text = minutes_text(_l("Vad ska göras"))
    responsible_agency_id = SelectField(
        _l("Ansvarig myndighet"), coerce=int, validators=[InputRequired(REQUIRED)]
    )
    responsible_user_id = SelectField(
        _l("Ansvarig person (valfritt)"), coerce=int, default=0, validators=[Optional()]
    )
    due_on = DateField(
        _l("Klart senast"), validators=[InputRequired(REQUIRED), sane_date], format="%Y-%m-%d"
    )
    assessment = assessment_field()
    submit = SubmitField(_l("Lägg till åtgärd"))


class SubmitForApprovalForm(FlaskForm):
    adjuster_id = SelectField(_l("Justerare"), coerce=int, validators=[InputRequired(REQUIRED)])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(REQUIRED)])
    submit = SubmitField(_l("Skicka för justering"))


ACTION_STATUS_LABELS = {
    ActionStatus.OPEN: _l("Öppen"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Genomförd"),
    ActionStatus.NOT_DONE: _l("Inte genomförd"),
    ActionStatus.CANCELLED: _l("Avbruten"),
}
MINUTES_STATUS_LABELS = {
    MinutesStatus.DRAFT: _l("Utkast"),
    MinutesStatus.SUBMITTED: _l("Väntar på justering"),
    MinutesStatus.APPROVED: _l("Justerat och låst"),
}


def confirmed(prefix: str) -> tuple[int, ...]:
    """The indexes of the statements ticked as ``<prefix><n>``."""
    return tuple(sorted(ticked_indexes(prefix)))


def share_choices() -> list[ShareChoice]:
    """``share-<agency>`` ticked, ``basis-<agency>`` chosen, ``confirm-<agency>-<basis>-<n>``."""
    shares = []
    for key in request.form:
        if not key.startswith("share-"):
            continue
        agency_id = plain_int(key[len("share-") :])
        if agency_id is None:
            continue
        basis_id = request.form.get(f"basis-{agency_id}", "")
        shares.append(
            ShareChoice(agency_id, basis_id, confirmed(f"confirm-{agency_id}-{basis_id}-"))
        )
    return shares
