"""Notices from lower layers to the outbox an upper layer owns.

The outbox (``meetings.notifications``) sits above secrecy, which must not import it; secrecy's
services still need to tell users that something waits for them (an information request). They
hand a ``Notice`` to ``send_notice``; the outbox registers the function that stores it
(``register_notice_sink``). A notice carries only fixed words and ids, like every notification:
the sink checks it again. Without a registered sink (a bare app in a test), nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

from coordination.models import User
from coordination.registry import NOTICE_SINKS


@dataclass(frozen=True)
class Notice:
    """One content-free notice: its kind, subject and body in the recipient's language are the
    sink's to render from ``kind`` and ``params`` (ids and counts only), ``link`` a path of
    words and ids, ``dedup_key`` unique per notice."""

    kind: str
    link: str
    dedup_key: str
    params: tuple[tuple[str, int], ...] = ()


NoticeSink = Callable[[Session, User, Notice], bool]


def register_notice_sink(app: Flask, sink: NoticeSink) -> None:
    NOTICE_SINKS.add(app, sink)


def send_notice(session: Session, recipients: list[User], notice: Notice) -> int:
    """Hand the notice to the registered sink for each active recipient; returns how many were
    stored (a second run with the same dedup key stores none)."""
    if not has_app_context():
        return 0
    sinks = NOTICE_SINKS.of(current_app)
    if not sinks:
        return 0
    sink = sinks[-1]
    sent = 0
    for user in recipients:
        if user.is_active and sink(
            session,
            user,
            Notice(notice.kind, notice.link, f"{notice.dedup_key}:{user.id}", notice.params),
        ):
            sent += 1
    return sent
