"""The plan on a shared screen: the child's current plan as an HTML fragment that shows a text
only when every agency in the room may read it (a network meeting's projector, where several
agencies sit together); any other text is marked as not shown, with the reason.

The network-meeting projector view calls ``plan_projection``; nothing is decrypted for an
agency other than the viewer's: the others' right to read is decided by the policy and their
keys (``secrecy.records.reveal.readable_by_agency``) without opening anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied
from coordination.models import Agency, User
from minutes.plans.access import can_view_plan, plan_of_child
from minutes.plans.areas import area_label
from minutes.plans.reading import read_version
from minutes.plans.services import agreed_version, latest_version
from secrecy.models import Record
from secrecy.records.reveal import RevealResult, readable_by_agency, reveal_records


@dataclass(frozen=True)
class NotForEveryone:
    """A text the viewer's agency may read but not every agency present."""

    record: Record
    withheld = True
    ask_owner = None

    @property
    def reason(self) -> str:
        return _("Visas inte här: alla myndigheter som är med får inte se texten.")


def plan_projection(
    session: Session,
    viewer: User,
    council_id: int,
    child_id: int,
    agency_ids: Sequence[int],
) -> str | None:
    """The child's plan in force (or its draft, before one is agreed) as HTML, each text shown
    only if the viewer and every one of ``agency_ids`` may read it; None when the child has no
    plan. Refused (``PermissionDenied``) for a viewer outside the council."""
    plan = plan_of_child(session, council_id, child_id)
    if plan is None:
        return None
    if not can_view_plan(viewer, plan):
        raise PermissionDenied(object_type="individual_plan", object_ids=[plan.id])
    version = agreed_version(plan) or latest_version(plan)
    agencies = list(
        session.scalars(select(Agency).where(Agency.id.in_(set(agency_ids))).order_by(Agency.id))
    )
    unknown = set(agency_ids) - {a.id for a in agencies}

    def reveal(records: Sequence[Record]) -> list[RevealResult]:
        shared = {r.id for r in records} if not unknown else set()
        for agency in agencies:
            if agency.id == viewer.agency_id:
                continue
            shared &= readable_by_agency(session, agency, council_id, records)
        opened = {
            r.record.id: r
            for r in reveal_records(
                session,
                viewer,
                [r for r in records if r.id in shared],
                purpose="plan_projection",
            )
        }
        results: list[RevealResult] = []
        for record in records:
            result = opened.get(record.id)
            results.append(result if result is not None else NotForEveryone(record))  # type: ignore[arg-type]
        return results

    view = read_version(session, viewer, version, reveal=reveal)
    return render_template("minutes/plans/projection.html", view=view, area_label=area_label)
