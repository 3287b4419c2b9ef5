"""Secrecy's scheduled sweeps: the nightly audit checkpoint."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coordination.audit.checkpoints import AuditCheckpoint, verify_checkpoints
from coordination.audit.log import AuditTag, record_event
from coordination.db import utcnow
from secrecy.jobs import audit_checkpoint_job


def test_the_nightly_checkpoint_signs_only_when_something_was_logged(db: Session) -> None:
    assert audit_checkpoint_job(db, utcnow()) == 0  # an empty log has no head to sign
    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[1])
    assert audit_checkpoint_job(db, utcnow()) == 1
    assert audit_checkpoint_job(db, utcnow()) == 0  # only its own event since: nothing new
    record_event(db, None, AuditTag.ACCESS_DENIED, object_ids=[2])
    assert audit_checkpoint_job(db, utcnow()) == 1
    checkpoints = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    assert [c.seq for c in checkpoints] == [1, 3]
    assert verify_checkpoints(db).ok
