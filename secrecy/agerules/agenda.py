"""A child past the council's upper age limit goes on the next agenda with a "review whether
to close" marker. The agenda belongs to meetings, upstairs: this module registers an agenda
contributor (``coordination.registry.AGENDA_CONTRIBUTORS``) and offers the meeting page the
set of children to mark. An exception whose review date has not come keeps a child off it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.db import LOCAL_ZONE
from coordination.models import Child, ChildStatus, Council
from coordination.registry import AGENDA_CONTRIBUTORS
from secrecy.agerules.ranges import age_range, past_upper_limit
from secrecy.agerules.services import open_exception_ids
from secrecy.records.reveal import child_birth_date


def meeting_day(starts_at: dt.datetime) -> dt.date:
    return starts_at.astimezone(LOCAL_ZONE).date()


class ChildAgeFacts(Protocol):
    """What the review reads of a child: a ``Child`` or a plain row of these columns."""

    @property
    def id(self) -> int: ...
    @property
    def council_id(self) -> int: ...
    @property
    def status(self) -> ChildStatus: ...
    @property
    def birth_date_sealed(self) -> bytes | None: ...


def children_to_review(
    session: Session, council: Council, on: dt.date, children: Sequence[ChildAgeFacts]
) -> set[int]:
    """Of ``children`` (of ``council``, active), those past the council's upper limit on
    ``on`` without an exception still running. One query for the exceptions."""
    council_range = age_range(council)
    if council_range.max_age is None:
        return set()
    past: list[int] = []
    for child in children:
        if child.council_id != council.id or child.status is not ChildStatus.ACTIVE:
            continue
        birth_date = child_birth_date(session, child.id, child.birth_date_sealed)
        if birth_date is not None and past_upper_limit(council_range, birth_date, on):
            past.append(child.id)
    return set(past) - open_exception_ids(session, past, on)


def review_contributor(session: Session, meeting: Any) -> Iterable[int]:
    """``AgendaContributor``: the children of the meeting's council to review on its day."""
    council = session.get(Council, meeting.council_id)
    if council is None or age_range(council).max_age is None:
        return []
    # Plain rows: the council's every active child is read on each agenda and meeting page.
    children = session.execute(
        select(Child.id, Child.council_id, Child.status, Child.birth_date_sealed)
        .where(Child.council_id == council.id, Child.status == ChildStatus.ACTIVE)
        .order_by(Child.pseudonym)
    ).all()
    marked = children_to_review(session, council, meeting_day(meeting.starts_at), children)
    return [c.id for c in children if c.id in marked]


def init_app(app: Flask) -> None:
    AGENDA_CONTRIBUTORS.add(app, review_contributor)
