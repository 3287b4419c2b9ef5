"""The coordinators' decision on a held duplicate: two buttons on the queue, the case's
version; each goes on to its confirmation page, whose button posts ``DecisionForm``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class ResolveDuplicateForm(FlaskForm):
    version = HiddenField()
    close = SubmitField(_l("Avsluta som dubblett"))
    keep = SubmitField(_l("Behåll som eget ärende"))


class DecisionForm(FlaskForm):
    """A confirmation page's post: the version the queue was loaded with."""

    version = HiddenField()
