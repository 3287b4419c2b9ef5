"""The coordinators' decision on a held duplicate: two buttons, the case's version."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class ResolveDuplicateForm(FlaskForm):
    version = HiddenField()
    close = SubmitField(_l("Avsluta som dubblett"))
    keep = SubmitField(_l("Behåll som eget ärende"))
