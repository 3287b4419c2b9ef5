"""Form helpers every package's forms share: choices (also from a label table), the fields
about a child that the browser must not keep, the confirmation form, version fields, and the
Swedish labels of the ground floor's kinds and roles with the helpers pages read them through.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]  # SelectChoice: types-WTForms 3.2 lacks it
    DateField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coordination.models import AgencyKind, CouncilKind, CouncilRole, Role
from coordination.numbers import plain_int
from coordination.web.params import is_sane_date

DATE_OUT_OF_RANGE = _l("Ange ett datum mellan 1900 och 2199.")


def sane_date(form: FlaskForm, field: DateField) -> None:
    """A date inside the calendar the application works with (``params.is_sane_date``): a
    mistyped year is a message on its field, never a query with it."""
    if not is_sane_date(field.data):
        raise ValidationError(DATE_OUT_OF_RANGE)


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

# No browser autofill or history for fields about a child or young person.
PRIVATE = {"autocomplete": "off"}

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)
K = TypeVar("K")


def validated(value: T | None) -> T:
    """A required field's data after ``validate()`` passed: never None (its InputRequired or
    DataRequired validator saw to that); the stubs type every field's data as optional."""
    if value is None:
        raise ValueError("a required field is empty after validation")
    return value


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def label_choices(labels: Mapping[E, object]) -> list[SelectChoice]:
    """A select's choices from an enum's label table: each member's value with its label, in
    the table's order."""
    return choices((member.value, label) for member, label in labels.items())


def private_text_area(label: str, *, max_length: int, rows: int) -> TextAreaField:
    """A required text area about a child (a brief, a record, an answer): bounded, and the
    browser keeps no copy of it."""
    return TextAreaField(
        label,
        validators=[DataRequired(REQUIRED), Length(max=max_length)],
        render_kw={**PRIVATE, "rows": rows},
    )


def private_line(label: str, *, max_length: int) -> StringField:
    """An optional line about a child or a family (a name, a telephone number): bounded, and
    the browser keeps no copy of it."""
    return StringField(label, validators=[Optional(), Length(max=max_length)], render_kw=PRIVATE)


def labels_by_value(labels: Mapping[E, T]) -> dict[object, T]:
    """An enum's label table keyed by the members' values, for a template that holds the value
    a row or a form carries."""
    return {member.value: label for member, label in labels.items()}


def translated_labels(labels: Mapping[K, object]) -> dict[K, str]:
    """A label table with every label translated now, once per page rather than once per row."""
    return {key: str(label) for key, label in labels.items()}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConfirmForm(FlaskForm):
    """A bare POST button: the form exists for its CSRF token."""

    submit = SubmitField(_l("Bekräfta"))


def parse_version(raw: str | None) -> int | None:
    """The version the form was loaded with; a tampered value counts as a conflict."""
    if not raw:
        return None
    version = plain_int(raw)
    return -1 if version is None else version
