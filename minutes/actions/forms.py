"""Forms and labels of the action pages: the list filters (in the query string) and the status
update of one action."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from coordination.web.forms import REQUIRED, choices
from minutes.actions.lists import DueFilter, SortKey, StatusFilter
from minutes.actions.services import MAX_COMMENT
from minutes.models import ActionStatus, NotDoneReason
from secrecy.records.forms import assessment_field

STATUS_LABELS = {
    ActionStatus.OPEN: _l("Öppen"),
    ActionStatus.IN_PROGRESS: _l("Pågår"),
    ActionStatus.DONE: _l("Utförd"),
    ActionStatus.NOT_DONE: _l("Inte utförd"),
    ActionStatus.CANCELLED: _l("Struken"),
}
REASON_LABELS = {
    NotDoneReason.CIRCUMSTANCES_CHANGED: _l("Omständigheterna har ändrats"),
    NotDoneReason.NOT_CARRIED_OUT: _l("Blev inte genomförd"),
}
STATUS_FILTER_LABELS = {
    StatusFilter.ACTIVE: _l("Öppna och pågående"),
    StatusFilter.OPEN: _l("Öppna"),
    StatusFilter.IN_PROGRESS: _l("Pågående"),
    StatusFilter.DONE: _l("Utförda"),
    StatusFilter.NOT_DONE: _l("Inte utförda"),
    StatusFilter.CANCELLED: _l("Strukna"),
    StatusFilter.ALL: _l("Alla"),
}
DUE_FILTER_LABELS = {
    DueFilter.ALL: _l("Alla"),
    DueFilter.OVERDUE: _l("Försenade"),
    DueFilter.NEXT_7: _l("Nästa 7 dagar"),
    DueFilter.NEXT_30: _l("Nästa 30 dagar"),
}
SORT_LABELS = {
    SortKey.DUE: _l("Klart senast"),
    SortKey.STATUS: _l("Status"),
    SortKey.COUNCIL: _l("Forum"),
}


class ActionFilterForm(FlaskForm):
    """The list filters travel in the query string (no personal data in them); the page
    number is read with ``coordination.web.params.page_number``."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=choices(STATUS_FILTER_LABELS.items()),
        default=StatusFilter.ACTIVE.value,
    )
    due = SelectField(
        _l("Klart senast"), choices=choices(DUE_FILTER_LABELS.items()), default=DueFilter.ALL.value
    )
    council = SelectField(_l("Forum"), choices=[], default="")
    sort = SelectField(
        _l("Sortera efter"), choices=choices(SORT_LABELS.items()), default=SortKey.DUE.value
    )


class ActionUpdateForm(FlaskForm):
    status = SelectField(_l("Ny status"), validators=[DataRequired(REQUIRED)], choices=[])
    reason = SelectField(
        _l("Skäl (om åtgärden inte blev utförd)"),
        choices=choices([("", "—"), *REASON_LABELS.items()]),
        default="",
    )
    comment = TextAreaField(
        _l("Kommentar"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_COMMENT)],
        render_kw={"autocomplete": "off", "rows": 4},
    )
    share_basis = SelectField(_l("Lämna ut kommentaren"), choices=[], default="")
    share_confirm = BooleanField(_l("Jag bekräftar förutsättningarna för den valda grunden."))
    assessment = assessment_field()
    version = HiddenField(validators=[InputRequired()])
