"""The approval steps of the workspace: send the minutes for approval, approve (justera, the
second approval locks), take them back (the coordinator) or send them back (the chair or the
adjuster).

Sending and approving cannot be undone by the one who does it, so each has a confirmation page
of its own (``coordination.web.confirm``): the GET, and a POST without the confirm field, show
what will happen and write nothing; the POST from that page does the step. A refusal shows the
workspace again with the message (422), before the confirmation page as after it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import User
from coordination.policy import Need
from coordination.web.confirm import Confirmation, is_confirmed, render_confirmation
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.params import arg_int
from meetings.agenda.views import requested_meeting
from meetings.models import Meeting
from minutes.models import ApprovalRole, MinutesStatus
from minutes.workspace import approval, page
from minutes.workspace.page import Posted
from minutes.workspace.views import changing, render_workspace

bp = PageBlueprint("minutes_approval", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _workspace_url(meeting: Meeting, anchor: str = "#approval") -> str:
    """The workspace; after a step (anchor "") opened at its top, where the message is."""
    return url_for("minutes.workspace_page", meeting_id=meeting.id) + anchor


def _refused_on_workspace(
    session: Session, meeting: Meeting, kind: str, form: FlaskForm | None = None
) -> None:
    """A refusal shows the workspace again, with the refused form's messages at its fields."""
    on_refusal(
        form,
        lambda message: render_workspace(
            session, meeting, error=message, posted=Posted(kind, 0, form)
        ),
    )


def _council_and_day(meeting: Meeting) -> dict[str, str]:
    """The names a confirmation's lead gives the meeting by."""
    day = meeting.starts_at.astimezone(LOCAL_ZONE).date().isoformat()
    return {"council": meeting.council.name, "day": day}


@bp.page("/meetings/<int:meeting_id>/minutes/submit", methods=["GET", "POST"])
def submit(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    if request.method == "GET":
        _refused_on_workspace(session, meeting, "submit")
        adjuster_id, version = arg_int("adjuster_id"), arg_int("version")
    else:
        form = page.submit_form(session, meeting, None, formdata=True)
        form.adjuster_id.validate_choice = False  # the service says why a person cannot adjust
        _refused_on_workspace(session, meeting, "submit", form)
        require_valid(form)
        adjuster_id, version = form.adjuster_id.data, form.version.data
    adjuster = session.get(User, adjuster_id or 0)
    if not is_confirmed():
        with changing(meeting):
            minutes = approval.current_minutes(session, meeting)
            adjuster = approval.check_submission(
                session, actor(), meeting, minutes, adjuster, version or 0
            )
        chair = meeting.chair.display_name if meeting.chair else ""
        return render_confirmation(
            Confirmation(
                title=_("Skicka protokollet för justering"),
                lead=_(
                    "Du skickar protokollet från mötet i %(council)s %(day)s för justering.",
                    **_council_and_day(meeting),
                ),
                consequences=[
                    _(
                        "Ordföranden %(chair)s och justeraren %(adjuster)s får en notis och "
                        "justerar protokollet.",
                        chair=chair,
                        adjuster=adjuster.display_name,
                    ),
                    _(
                        "Protokollet kan inte ändras medan det väntar på justering. Du kan ta "
                        "tillbaka det till utkast, och ordföranden eller justeraren kan skicka "
                        "tillbaka det, tills båda har justerat."
                    ),
                    _("Mötet räknas som hållet: dess dagordning kan inte längre ändras."),
                ],
                action=url_for("minutes_approval.submit", meeting_id=meeting.id),
                button=_("Skicka för justering"),
                cancel_url=_workspace_url(meeting),
                hidden={"adjuster_id": adjuster.id, "version": version or 0},
            )
        )
    with changing(meeting):
        approval.submit_for_approval(session, actor(), meeting, adjuster, version or 0)
    flash(_("Protokollet är skickat för justering."), "success")
    return redirect(_workspace_url(meeting, ""))


@bp.page("/meetings/<int:meeting_id>/minutes/approve", methods=["GET", "POST"])
def approve(meeting_id: int) -> ResponseReturnValue:
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    _refused_on_workspace(session, meeting, "approve")
    if not is_confirmed():
        with changing(meeting):
            step = approval.check_approval(
                session, actor(), meeting, approval.current_minutes(session, meeting)
            )
        role = _("ordförande") if step.role is ApprovalRole.CHAIR else _("justerare")
        consequences = (
            [
                _(
                    "Protokollet blir justerat och låses. Det kan aldrig ändras; en ändring "
                    "görs som en rättelse med skäl."
                ),
                _("Kontrollsumman över innehållet skrivs i loggen."),
                _("Barn med öppna åtgärder sätts på forumets nästa dagordningar."),
                _("Sekreteraren får en notis om att protokollet är justerat."),
            ]
            if step.locks
            else [
                _("Din justering sparas och kan inte tas tillbaka."),
                _("Protokollet låses när även den andra har justerat."),
            ]
        )
        return render_confirmation(
            Confirmation(
                title=_("Justera protokollet"),
                lead=_(
                    "Du justerar protokollet från mötet i %(council)s %(day)s som %(role)s.",
                    role=role,
                    **_council_and_day(meeting),
                ),
                consequences=consequences,
                action=url_for("minutes_approval.approve", meeting_id=meeting.id),
                button=_("Justera och lås protokollet") if step.locks else _("Justera"),
                cancel_url=_workspace_url(meeting),
            )
        )
    with changing(meeting):
        minutes = approval.approve(session, actor(), meeting)
    if minutes.status is MinutesStatus.APPROVED:
        flash(_("Protokollet är justerat och låst."), "success")
    else:
        flash(_("Din justering är sparad. Den andra justeringen saknas."), "success")
    return redirect(_workspace_url(meeting, ""))


def _simple_step(
    meeting_id: int, kind: str, step: Callable[[Session, User, Meeting], object], done: str
) -> ResponseReturnValue:
    """A step without a confirmation page: refused on the workspace, ``done`` on success."""
    session, meeting = requested_meeting(meeting_id, Need.WRITE)
    _refused_on_workspace(session, meeting, kind)
    with changing(meeting):
        step(session, actor(), meeting)
    flash(done, "success")
    return redirect(_workspace_url(meeting, ""))


@bp.page("/meetings/<int:meeting_id>/minutes/withdraw", methods=["POST"])
def withdraw(meeting_id: int) -> ResponseReturnValue:
    done = _("Protokollet är ett utkast igen.")
    return _simple_step(meeting_id, "withdraw", approval.withdraw_submission, done)


@bp.page("/meetings/<int:meeting_id>/minutes/send-back", methods=["POST"])
def send_back(meeting_id: int) -> ResponseReturnValue:
    done = _("Protokollet är skickat tillbaka till sekreteraren för ändring.")
    return _simple_step(meeting_id, "send_back", approval.send_back, done)
