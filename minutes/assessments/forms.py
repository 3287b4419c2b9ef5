"""The form of a new assessment: built per instrument, a score and a comment per area."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from coordination.web.forms import choices
from minutes.assessments.instruments import Instrument
from minutes.assessments.services import MAX_COMMENT, AreaInput, AssessmentInput

NOT_ASSESSED = ""


class AssessmentForm(FlaskForm):
    assessed_on = DateField(_l("Datum för bedömningen"), validators=[Optional()])
    overall_comment = TextAreaField(
        _l("Kommentar till den samlade bedömningen"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
    )


def assessment_form(instrument: Instrument, **kwargs: Any) -> AssessmentForm:
    """The form for ``instrument``: the scores are not checked against the scale here, so
    that the service's message (which names the area and the allowed values) is the one shown,
    as it is in the API."""

    class InstrumentForm(AssessmentForm):
        pass

    for area in instrument.areas:
        scale = instrument.scale_of(area)
        setattr(
            InstrumentForm,
            f"score_{area.code}",
            SelectField(
                area.label,
                choices=choices(
                    [(NOT_ASSESSED, _l("Ej bedömt")), *((s.value, s.label) for s in scale.steps)]
                ),
                validate_choice=False,
                default=NOT_ASSESSED,
            ),
        )
        setattr(
            InstrumentForm,
            f"comment_{area.code}",
            TextAreaField(
                _l("Kommentar: %(area)s", area=area.label),
                validators=[Optional(), Length(max=MAX_COMMENT)],
            ),
        )
    if instrument.overall.method == "assessor":
        InstrumentForm.overall_level = SelectField(
            _l("Samlad nivå"),
            choices=choices(
                [("", "—"), *((lvl.code, lvl.label) for lvl in instrument.overall.levels)]
            ),
            validate_choice=False,
        )
    return InstrumentForm(**kwargs)


def area_fields(form: AssessmentForm, instrument: Instrument) -> list[tuple[Field, Field]]:
    return [(form[f"score_{area.code}"], form[f"comment_{area.code}"]) for area in instrument.areas]


def assessment_input(form: AssessmentForm, instrument: Instrument) -> AssessmentInput:
    areas = {
        area.code: AreaInput(
            score=form[f"score_{area.code}"].data or None,
            comment=form[f"comment_{area.code}"].data or "",
        )
        for area in instrument.areas
    }
    overall = form["overall_level"].data if "overall_level" in form else None
    return AssessmentInput(
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        assessed_on=form.assessed_on.data,
        areas=areas,
        overall_level=overall or None,
        overall_comment=form.overall_comment.data or "",
    )
