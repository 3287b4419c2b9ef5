"""The shred log: every crypto-shredded child, appended to a file OUTSIDE the database.

Gallring and a declined case-sync proposal delete a child's keys and ciphertext in the live
database. A backup taken earlier still holds them, and restoring it would bring the child's
records back. The shred log is what survives such a restore: ``flask backup restore`` re-applies
every entry to the restored copy (:func:`reapply`), and then gallring runs for the day.

- **Where.** ``SAMVERKAN_SHRED_LOG`` (default ``instance/shred-log.jsonl``): one JSON object a
  line, ``{"child_id": 12, "pseudonym_sha256": "…", "shredded_at": "…"}``. Ids and a hash
  only, no personal data; keep it on storage that is not restored together with the database,
  and copy it with the backups.
- **When.** Each shredding is noted on its session and appended after its transaction commits
  (a rolled-back shredding is never logged). If that append fails (a full disk, a process
  killed between commit and write), :func:`sync` catches up: the nightly gallring run appends
  every shredded child of the database that the file does not list yet.
- **Identity.** An entry names the child by id *and* the SHA-256 of its pseudonym: after a
  restore the ids handed out later are handed out again, so an id alone could name another
  child; a different pseudonym hash is skipped and reported.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coordination.db import utcnow
from coordination.models import Child, ChildStatus

logger = logging.getLogger("samverkan.shredlog")

PENDING = "samverkan.shredded_children"


def pseudonym_hash(pseudonym: str) -> str:
    return hashlib.sha256(pseudonym.encode("utf-8")).hexdigest()


def entry_for(child: Child, shredded_at: dt.datetime) -> dict[str, Any]:
    return {
        "child_id": child.id,
        "pseudonym_sha256": pseudonym_hash(child.pseudonym),
        "shredded_at": shredded_at.isoformat(),
    }


def note(session: Session, child: Child, shredded_at: dt.datetime) -> None:
    """Remember a shredding; it is appended to the log once the transaction commits."""
    session.info.setdefault(PENDING, []).append(entry_for(child, shredded_at))


def configured_path() -> Path | None:
    if not has_app_context():
        return None
    value = current_app.config.get("SHRED_LOG")
    return Path(value) if value else None


def append(path: Path, entries: list[dict[str, Any]]) -> None:
    """Append and fsync, under an exclusive lock (app servers and schedulers share the file)."""
    if not entries:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        for entry in entries:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            entries.append(
                {
                    "child_id": int(entry["child_id"]),
                    "pseudonym_sha256": str(entry["pseudonym_sha256"]),
                    "shredded_at": str(entry["shredded_at"]),
                }
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, rad {number}: ogiltig rad i gallringsloggen") from exc
    return entries


@event.listens_for(Session, "after_commit")
def _append_after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    path = configured_path()
    if path is None:
        return
    try:
        append(path, pending)
    except OSError as exc:
        # The shredding is committed; the nightly sync appends what is missing.
        logger.error("shred log %s not written (%s); the next gallring run catches up", path, exc)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def sync(session: Session, path: Path) -> int:
    """Append every shredded child of the database that the log does not list yet (committed
    shreddings only: call it before shredding anything in the same transaction). Returns the
    number appended."""
    listed = {(e["child_id"], e["pseudonym_sha256"]) for e in read(path)}
    missing = []
    rows = session.execute(
        select(Child.id, Child.pseudonym, Child.shredded_at)
        .where(Child.status == ChildStatus.SHREDDED)
        .order_by(Child.id)
    )
    for child_id, pseudonym, shredded_at in rows:
        if (child_id, pseudonym_hash(pseudonym)) not in listed:
            missing.append(
                {
                    "child_id": child_id,
                    "pseudonym_sha256": pseudonym_hash(pseudonym),
                    "shredded_at": (shredded_at or utcnow()).isoformat(),
                }
            )
    append(path, missing)
    return len(missing)
