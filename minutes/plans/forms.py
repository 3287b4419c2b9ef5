"""Forms and labels of the plan pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from coordination.web.forms import choices, sane_date
from minutes.plans.models import EvaluationOutcome, PlanVersionStatus
from minutes.plans.services import MAX_GOAL, MAX_TEXT
from secrecy.records.forms import assessment_field

STATUS_LABELS = {
    PlanVersionStatus.DRAFT: _l("Utkast"),
    PlanVersionStatus.AGREED: _l("Fastställd"),
    PlanVersionStatus.SUPERSEDED: _l("Ersatt"),
}
OUTCOME_LABELS = {
    EvaluationOutcome.REACHED: _l("Uppnått"),
    EvaluationOutcome.PARTLY: _l("Delvis uppnått"),
    EvaluationOutcome.NOT_REACHED: _l("Inte uppnått"),
    EvaluationOutcome.NOT_RELEVANT: _l("Inte längre aktuellt"),
}
FIELD_LABELS = {
    "area": _l("livsområde"),
    "target_on": _l("måldatum"),
    "text": _l("målets text"),
    "indicator": _l("hur det ska märkas"),
}


class VersionedForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])


class NewPlanForm(FlaskForm):
    child_id = SelectField(_l("Barn"), choices=[])
    coordinator_id = SelectField(_l("Planens samordnare"), choices=[])


class CoordinatorForm(VersionedForm):
    coordinator_id = SelectField(_l("Planens samordnare"), choices=[])


class GoalForm(VersionedForm):
    area = SelectField(_l("Livsområde"), choices=[])
    text = TextAreaField(
        _l("Mål"), validators=[Optional(), Length(max=MAX_GOAL)], render_kw={"rows": 2}
    )
    indicator = TextAreaField(
        _l("Så märks det att målet är nått"),
        validators=[Optional(), Length(max=MAX_GOAL)],
        render_kw={"rows": 2},
    )
    target_on = DateField(_l("Måldatum"), validators=[Optional(), sane_date])
    assessment = assessment_field()


class ViewsForm(VersionedForm):
    youth_view = TextAreaField(
        _l("Barnets/den unges syn"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    guardian_view = TextAreaField(
        _l("Vårdnadshavarnas syn"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        render_kw={"rows": 3},
    )
    assessment = assessment_field()


class EvaluationDateForm(VersionedForm):
    evaluate_on = DateField(_l("Uppföljningsdatum"), validators=[Optional(), sane_date])


class ReviseForm(VersionedForm):
    reason = TextAreaField(
        _l("Varför ändras planen?"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        render_kw={"rows": 2},
    )


class AgreeForm(VersionedForm):
    meeting_id = SelectField(_l("Möte"), choices=[])


class MeasureForm(VersionedForm):
    action_id = SelectField(_l("Åtgärd"), choices=[])


class NewMeasureForm(VersionedForm):
    """A new agreed action at a meeting, made a measure of the goal. The selects do not check
    their choices themselves: the service says in Swedish why a meeting, an agency outside the
    council or a person is refused."""

    meeting_id = SelectField(_l("Mötet där insatsen beslutas"), choices=[], validate_choice=False)
    text = TextAreaField(
        _l("Vad ska göras"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        render_kw={"rows": 2},
    )
    responsible_agency_id = SelectField(_l("Ansvarig myndighet"), choices=[], validate_choice=False)
    responsible_user_id = SelectField(
        _l("Ansvarig person (valfritt)"), choices=[], validate_choice=False
    )
    due_on = DateField(_l("Klart senast"), validators=[Optional(), sane_date])
    assessment = assessment_field()


class EvaluateForm(VersionedForm):
    outcome = SelectField(
        _l("Hur gick det?"),
        choices=choices([("", "—"), *((k.value, v) for k, v in OUTCOME_LABELS.items())]),
        default="",
    )
    comment = TextAreaField(
        _l("Kommentar"), validators=[Optional(), Length(max=MAX_TEXT)], render_kw={"rows": 2}
    )
    assessment = assessment_field()
