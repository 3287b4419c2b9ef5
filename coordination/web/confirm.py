"""Confirmation pages for the steps that cannot be undone (send minutes for approval, approve
and lock them, sign a month's log review, revoke a disclosure, close a case).

Each such step has one address. A GET shows its confirmation page, which says what will happen
and writes nothing; a POST without the confirm field (the button on the page the step is started
from) shows the same page; only a POST from the confirmation page, which carries
``confirm=yes`` and the CSRF token, does the step. The page carries the step's own values (an
adjuster, a reason) as hidden fields: ids and fixed codes, never free text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask import render_template, request
from flask.typing import ResponseReturnValue

from coordination.web.forms import ConfirmForm

CONFIRM_FIELD = "confirm"
CONFIRM_VALUE = "yes"


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page of one step says and where its button posts."""

    title: str
    lead: str  # what the user is about to do
    consequences: Sequence[str]  # what will happen, one sentence each
    action: str  # the step's address (POST)
    button: str
    cancel_url: str
    hidden: Mapping[str, object] = field(default_factory=dict)
    cancel_label: str | None = None


def is_confirmed() -> bool:
    """The request is the POST from a confirmation page (its CSRF token is checked by the
    step's form)."""
    return request.method == "POST" and request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def render_confirmation(confirmation: Confirmation) -> ResponseReturnValue:
    return render_template(
        "confirm.html",
        confirmation=confirmation,
        form=ConfirmForm(formdata=None),
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
    )
