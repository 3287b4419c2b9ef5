"""Pages: a council's network meetings, calling one, its page (participants, letters, the young
person's voice, links to the minutes, the agreed actions and the consent form) and its
projector view. Names and voices are opened only through ``secrecy.records.reveal``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordination.councils.access import council_for
from coordination.db import db_session, today_local
from coordination.errors import PermissionDenied
from coordination.logreview.scopes import register_tag_labels
from coordination.models import Child, ChildStatus
from coordination.numbers import plain_int
from coordination.policy import Need
from coordination.web.forms import choices, parse_version, validated
from coordination.web.page import PageBlueprint, actor, on_refusal, require_valid
from coordination.web.registries import register_council_section
from meetings.network import letters, services
from meetings.network.access import may_call_network_meeting, may_invite, network_for
from meetings.network.forms import (
    LetterForm,
    NetworkMeetingForm,
    ParticipantForm,
    ParticipantStatusForm,
    VoiceForm,
)
from meetings.network.labels import KIND_LABELS, PURPOSE_LABELS, ROLE_LABELS, STATUS_LABELS
from meetings.network.models import NetworkMeeting
from meetings.network.projection import attendees_by_agency, projection_parts, shared_voices
from meetings.network.queries import council_network_meetings, network_detail
from meetings.tags import MeetingTag

bp = PageBlueprint("network", __name__, template_folder="templates")

TAG_LABELS = {
    MeetingTag.NETWORK_CREATE.value: _l("Nätverksmöte kallat"),
    MeetingTag.NETWORK_PARTICIPANT_ADD.value: _l("Deltagare utan konto kallad till nätverksmöte"),
    MeetingTag.NETWORK_PARTICIPANT_STATUS.value: _l("Närvaro för deltagare i nätverksmöte"),
    MeetingTag.NETWORK_LETTER_CREATE.value: _l("Kallelse till nätverksmöte skriven"),
    MeetingTag.NETWORK_LETTER_PRINT.value: _l("Kallelse till nätverksmöte utskriven"),
    MeetingTag.NETWORK_VOICE_ADD.value: _l("Barnets/den unges röst antecknad"),
}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_council_section(app, "network.council_list", _l("Nätverk och familj"))
    register_tag_labels(app, TAG_LABELS)


@bp.page("/councils/<int:council_id>/network-meetings")
def council_list(council_id: int) -> ResponseReturnValue:
    session = db_session()
    council = council_for(session, actor(), council_id, Need.VIEW)
    return render_template(
        "meetings/network/list.html",
        council=council,
        networks=council_network_meetings(session, council.id),
        may_call=may_call_network_meeting(actor(), council),
        kind_labels=KIND_LABELS,
    )


def _form_for(
    council_children: list[tuple[int, str]], agencies: list[tuple[int, str]]
) -> NetworkMeetingForm:
    form = NetworkMeetingForm()
    form.child_id.choices = choices([("", _("Välj barn")), *council_children])
    form.agency_ids.choices = choices(agencies)
    return form


@bp.page("/councils/<int:council_id>/network-meetings/new", methods=["GET", "POST"])
def new(council_id: int) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    council = council_for(session, user, council_id, Need.VIEW)
    if not may_call_network_meeting(user, council):
        raise PermissionDenied(object_type="council", object_ids=[council_id])
    children = [
        (row.id, row.pseudonym)
        for row in session.execute(
            select(Child.id, Child.pseudonym)
            .where(Child.council_id == council.id, Child.status == ChildStatus.ACTIVE)
            .order_by(Child.pseudonym)
        )
    ]
    agencies = [(a.id, a.name) for a in sorted(council.agencies, key=lambda a: a.name)]
    form = _form_for(children, agencies)

    def render(error: str | None = None) -> str:
        return render_template("meetings/network/new.html", council=council, form=form, error=error)

    if request.method == "GET":
        form.day.data = today_local() + dt.timedelta(days=7)
        form.start_time.data = dt.time(13, 0)
        form.end_time.data = dt.time(14, 30)
        form.agency_ids.data = [a for a, _name in agencies]
        return render()
    on_refusal(form, render)
    require_valid(form)
    child_id = plain_int((form.child_id.data or "").strip(), max_digits=9)
    child = session.get(Child, child_id) if child_id is not None else None
    network = services.create_network_meeting(
        session,
        user,
        council,
        services.NetworkMeetingData(
            child=child,
            kind=form.kind.data or "",
            purpose=form.purpose.data or "",
            day=form.day.data,
            start_time=form.start_time.data,
            duration_minutes=form.duration_minutes,
            location=form.location.data,
            video_link=form.video_link.data,
            agency_ids=list(form.agency_ids.data or []),
        ),
    )
    flash(_("Nätverksmötet är kallat. Lägg till deltagarna och skriv kallelserna."), "success")
    return redirect(url_for("network.page", meeting_id=network.meeting_id))


def _render_page(
    network: NetworkMeeting,
    *,
    participant_form: ParticipantForm | None = None,
    voice_form: VoiceForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    session = db_session()
    user = actor()
    detail = network_detail(session, user, network)
    agency_ids = [a.id for a in detail.agencies]
    links: list[tuple[str, dict[str, Any], str]] = [
        ("meetings.meeting", {"meeting_id": network.meeting_id}, _("Mötessidan (närvaro)")),
        (
            "minutes.child_page",
            {"meeting_id": network.meeting_id, "child_id": network.child_id},
            _("Anteckningar och överenskomna åtgärder"),
        ),
        (
            "disclosures.consents",
            {"child_id": network.child_id, "agency_ids": agency_ids, "purpose": "network_meeting"},
            _("Registrera samtycke vid mötet"),
        ),
        ("network.projector", {"meeting_id": network.meeting_id}, _("Projektorvy")),
    ]
    return render_template(
        "meetings/network/page.html",
        network=network,
        meeting=network.meeting,
        council=network.meeting.council,
        detail=detail,
        may_invite=may_invite(user, network),
        participant_form=participant_form or ParticipantForm(),
        voice_form=voice_form or VoiceForm(),
        letter_form=LetterForm(),
        status_form=ParticipantStatusForm(),
        links=[
            (url_for(endpoint, **args), label)
            for endpoint, args, label in links
            if endpoint in current_app.view_functions
        ],
        kind_labels=KIND_LABELS,
        purpose_labels=PURPOSE_LABELS,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
        error=error,
    ), status


@bp.page("/network-meetings/<int:meeting_id>")
def page(meeting_id: int) -> ResponseReturnValue:
    return _render_page(network_for(db_session(), actor(), meeting_id, Need.VIEW))


@bp.page("/network-meetings/<int:meeting_id>/participants", methods=["POST"])
def add_participant(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    network = network_for(session, actor(), meeting_id, Need.MANAGE)
    form = ParticipantForm()
    on_refusal(
        form,
        lambda message: _render_page(network, participant_form=form, error=message, status=422),
    )
    require_valid(form)
    services.add_participant(
        session, actor(), network, form.role.data or "", form.name.data or "", form.email.data
    )
    flash(_("Deltagaren är tillagd."), "success")
    return redirect(url_for("network.page", meeting_id=meeting_id))


@bp.page(
    "/network-meetings/<int:meeting_id>/participants/<int:participant_id>/status",
    methods=["POST"],
)
def set_status(meeting_id: int, participant_id: int) -> ResponseReturnValue:
    session = db_session()
    network = network_for(session, actor(), meeting_id, Need.MANAGE)
    back = url_for("network.page", meeting_id=meeting_id)
    form = ParticipantStatusForm()
    on_refusal(redirect_to=back)
    require_valid(form)
    participant = services.participant_of(session, network, participant_id)
    services.set_participant_status(
        session,
        actor(),
        network,
        participant,
        form.status.data or "",
        expected_version=parse_version(form.version.data),
    )
    flash(_("Närvaron är sparad."), "success")
    return redirect(back)


@bp.page(
    "/network-meetings/<int:meeting_id>/participants/<int:participant_id>/letter",
    methods=["POST"],
)
def create_letter(meeting_id: int, participant_id: int) -> ResponseReturnValue:
    session = db_session()
    network = network_for(session, actor(), meeting_id, Need.MANAGE)
    back = url_for("network.page", meeting_id=meeting_id)
    on_refusal(redirect_to=back)
    require_valid(LetterForm())
    participant = services.participant_of(session, network, participant_id)
    letters.create_letter(session, actor(), network, participant)
    flash(_("Kallelsen är skriven. Hämta den som PDF i listan."), "success")
    return redirect(back)


@bp.page("/network-letters/<int:letter_id>.pdf")
def letter_pdf(letter_id: int) -> ResponseReturnValue:
    """The letter for printing: the council's members load it, the reveal decides (the
    inviting agency, or one holding a disclosure of the letter's record); logged each time."""
    session = db_session()
    letter, network = letters.letter_for(session, actor(), letter_id)
    meeting_id = network.meeting_id
    body = letters.render_letter_pdf(letters.open_letter(session, actor(), network, letter))
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="kallelse-{meeting_id}-{letter_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@bp.page("/network-meetings/<int:meeting_id>/voice", methods=["POST"])
def add_voice(meeting_id: int) -> ResponseReturnValue:
    session = db_session()
    network = network_for(session, actor(), meeting_id, Need.WRITE)
    form = VoiceForm()
    on_refusal(
        form, lambda message: _render_page(network, voice_form=form, error=message, status=422)
    )
    require_valid(form)
    services.record_voice(session, actor(), network, validated(form.voice.data))
    flash(_("Barnets/den unges röst är sparad."), "success")
    return redirect(url_for("network.page", meeting_id=meeting_id))


@bp.page("/network-meetings/<int:meeting_id>/projector")
def projector(meeting_id: int) -> ResponseReturnValue:
    """The shared screen: the child by pseudonym, the participants by role, the voice and the
    upper layers' parts only where every attending agency may see them. Like the meeting's
    projector view it does not extend the layout that names the logged-in user."""
    session = db_session()
    user = actor()
    network = network_for(session, user, meeting_id, Need.VIEW)
    attendees = attendees_by_agency(session, network)
    detail_participants = network.participants
    return render_template(
        "meetings/network/projector.html",
        network=network,
        meeting=network.meeting,
        participants=detail_participants,
        voices=shared_voices(session, user, network, attendees),
        parts=projection_parts(session, user, network, sorted(attendees)),
        kind_labels=KIND_LABELS,
        purpose_labels=PURPOSE_LABELS,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
    )
