"""Pages: the council coordinators' queue of possible duplicates and their decision on each.

Only the council's coordinators (who may be told that a number is a case) open the queue or
decide; everyone else is refused alike (403, logged). Closing a held case as a duplicate and
keeping it as a case of its own each go through a confirmation page, as closing any case does
(``coordination.web.confirm``): neither can be undone from the queue. The queue shows
pseudonyms, the submitting agency and dates: no identity, no content. The council page shows a
coordinator how many wait (a council panel, for coordinators only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from coordination.councils.access import council_for
from coordination.db import db_session
from coordination.errors import NotFound
from coordination.models import Child, Council, User
from coordination.web.confirm import Confirmation, is_confirmed, render_confirmation
from coordination.web.forms import parse_version
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_council_panel
from secrecy.duplicates import services
from secrecy.duplicates.confirmations import close_confirmation, keep_confirmation
from secrecy.duplicates.forms import DecisionForm, ResolveDuplicateForm
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


def _held_case(session: Session, child_id: int) -> tuple[Child, str]:
    """The case and the queue's address, for the council's coordinators only."""
    found = child_for(session, actor(), child_id)
    services.require_council_coordinator(actor(), found.council)
    back = url_for("duplicates.queue", council_id=found.council_id)
    on_refusal(redirect_to=back)
    return found, back


def _confirm(
    session: Session, held: Child, expected: int | None, decision: Decision
) -> ResponseReturnValue:
    """The confirmation page of a decision on the held case; refused (nothing shown) when the
    decision could not be made now. Writes nothing."""
    services.check_resolvable(actor(), held, expected)
    holder = session.get(Child, held.duplicate_of_id)
    if holder is None:  # a held case always points to its holder (foreign key)
        raise NotFound(object_type="child", object_ids=[held.id])
    version = expected if expected is not None else held.version
    return render_confirmation(decision.confirmation(held, holder, version))


@bp.page("/children/<int:child_id>/duplicate", methods=["POST"])
def resolve(child_id: int) -> ResponseReturnValue:
    """The queue's buttons: each shows its decision's confirmation page."""
    session = db_session()
    found, back = _held_case(session, child_id)
    form = ResolveDuplicateForm(prefix=f"c{found.id}")
    require_valid(form)
    expected = parse_version(form.version.data)
    if form.close.data:
        return _confirm(session, found, expected, CLOSE)
    if form.keep.data:
        return _confirm(session, found, expected, KEEP)
    return redirect(back)


def _decide(child_id: int, decision: Decision) -> ResponseReturnValue:
    """A decision on a held case, as closing any case: the GET (and a POST without the
    confirmation) shows the confirmation page; only its button decides."""
    session = db_session()
    found, back = _held_case(session, child_id)
    posted = request.method == "POST"
    form = DecisionForm() if posted else DecisionForm(request.args, meta={"csrf": False})
    if posted:
        require_valid(form)
    expected = parse_version(form.version.data)
    if not is_confirmed():
        return _confirm(session, found, expected, decision)
    decision.take(session, actor(), found, expected)
    flash(decision.done(found), "success")
    return redirect(back)


@dataclass(frozen=True)
class Decision:
    """One of the coordinator's two decisions: its confirmation page, its service, what the
    queue says once it is taken."""

    confirmation: Callable[[Child, Child, int], Confirmation]
    take: Callable[[Session, User, Child, int | None], None]
    done: Callable[[Child], str]


CLOSE = Decision(
    close_confirmation,
    services.close_as_duplicate,
    lambda held: _("%(pseudonym)s är avslutat som dubblett.", pseudonym=held.pseudonym),
)
KEEP = Decision(
    keep_confirmation,
    services.keep_separate,
    lambda held: _("%(pseudonym)s är kvar som eget ärende.", pseudonym=held.pseudonym),
)


@bp.page("/children/<int:child_id>/duplicate/close", methods=["GET", "POST"])
def close(child_id: int) -> ResponseReturnValue:
    """Closing a held case as a duplicate."""
    return _decide(child_id, CLOSE)


@bp.page("/children/<int:child_id>/duplicate/keep", methods=["GET", "POST"])
def keep(child_id: int) -> ResponseReturnValue:
    """Keeping a held case as a case of its own."""
    return _decide(child_id, KEEP)
