"""Pages: the council coordinators' queue of possible duplicates and their decision on each.

Only the council's coordinators (who may be told that a number is a case) open the queue or
decide; everyone else is refused alike (403, logged). The queue shows pseudonyms, the
submitting agency and dates: no identity, no content. The council page shows a coordinator
how many wait (a council panel, for coordinators only).
"""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.models import Council, User
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_council_panel
from secrecy.duplicates import services
from secrecy.duplicates.forms import ResolveDuplicateForm
from secrecy.records.access import child_for

bp = PageBlueprint("duplicates", __name__, template_folder="templates")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_panel(app, waiting_duplicates_panel)


def waiting_duplicates_panel(session: Session, user: User, council: Council) -> str | None:
    """On the council page, for its coordinators: how many possible duplicates wait."""
    if not services.is_council_coordinator(user, council):
        return None
    waiting = services.possible_duplicates(session, council)
    if not waiting:
        return None
    return render_template("secrecy/duplicates/_panel.html", council=council, count=len(waiting))


def _coordinated_council(session: Session, council_id: int) -> Council:
    council = council_for(session, actor(), council_id)
    services.require_council_coordinator(actor(), council)
    return council


@bp.page("/councils/<int:council_id>/duplicates")
def queue(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = _coordinated_council(session, council_id)
    pairs = services.possible_duplicates(session, council)
    forms = {}
    for pair in pairs:
        form = ResolveDuplicateForm(prefix=f"c{pair.held.id}")
        form.version.data = str(pair.held.version)
        forms[pair.held.id] = form
    return render_template(
        "secrecy/duplicates/queue.html", council=council, pairs=pairs, forms=forms
    )


@bp.page("/children/<int:child_id>/duplicate", methods=["POST"])
def resolve(child_id: int) -> ResponseReturnValue:
    session = db_session()
    found = child_for(session, actor(), child_id)
    services.require_council_coordinator(actor(), found.council)
    back = url_for("duplicates.queue", council_id=found.council_id)
    on_refusal(redirect_to=back)
    form = ResolveDuplicateForm(prefix=f"c{found.id}")
    require_valid(form)
    version = form.version.data
    expected = int(version) if version and version.isdigit() else None
    if form.close.data:
        services.close_as_duplicate(session, actor(), found, expected)
        flash(_("%(pseudonym)s är avslutat som dubblett.", pseudonym=found.pseudonym), "success")
    elif form.keep.data:
        services.keep_separate(session, actor(), found, expected)
        flash(_("%(pseudonym)s är kvar som eget ärende.", pseudonym=found.pseudonym), "success")
    return redirect(back)
