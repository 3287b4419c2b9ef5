"""Forms of the age rules pages. Texts about a child travel in POST bodies only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import NumberRange, Optional

from coordination.web.forms import PRIVATE, sane_date

AGE = NumberRange(min=0, max=99, message=_l("Ange en ålder mellan 0 och 99 år."))


class AgeRangeForm(FlaskForm):
    min_age = IntegerField(_l("Lägsta ålder (år)"), validators=[Optional(), AGE])
    max_age = IntegerField(_l("Högsta ålder (år)"), validators=[Optional(), AGE])
    version = HiddenField()
    submit = SubmitField(_l("Spara målgruppsålder"))


class ExceptionFields:
    """The fields of an exception (avsteg) from the council's target age range; the service
    says which are required (the stigmatisation consideration for children under 12)."""

    exception_reason = TextAreaField(
        _l("Skäl till avsteget"), validators=[Optional()], render_kw={**PRIVATE, "rows": 3}
    )
    exception_decided_by = StringField(
        _l("Vem beslutade om avsteget"), validators=[Optional()], render_kw=PRIVATE
    )
    exception_stigmatisation = TextAreaField(
        _l("Bedömning av risken för stigmatisering"),
        validators=[Optional()],
        render_kw={**PRIVATE, "rows": 3},
    )
    exception_review_on = DateField(
        _l("Omprövas senast"), validators=[Optional(), sane_date], render_kw=PRIVATE
    )


class AgeExceptionForm(FlaskForm, ExceptionFields):
    submit = SubmitField(_l("Registrera avsteg"))
