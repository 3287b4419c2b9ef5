"""flask backup create/restore (PostgreSQL), the manifest's checks and the shred log that keeps a
restored older backup from bringing shredded children back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from coordination.backup import manifest as manifests
from coordination.backup.pgdump import BackupError, require_postgresql, sha256_of
from coordination.db import db_session, get_database, today_local, transaction, utcnow
from coordination.models import AgencyKind, Child, ChildStatus, CloseReason, CouncilRole, Role
from secrecy import shredlog
from secrecy.backup.restore import load_and_check, reapply
from secrecy.models import Record, RecordKey
from secrecy.records.children import close_case
from secrecy.records.services import create_record
from tests import factories
from tests.conftest import MASTER_KEY, Council3, make_test_config, migrate
from tests.secrecy.test_retention import MELKER, SIGRID, TINDRA, enrol

# --- the shred log itself (any database) ---------------------------------------------------------


def _closed_child_with_record(db: Session, world: Council3, person: tuple[str, str, str]) -> Child:
    child = enrol(db, world.coordinator, world.council, person)
    create_record(db, world.coordinator, child, "family", "Anteckning")
    close_case(db, world.coordinator, child, CloseReason.GOALS_REACHED)
    db.flush()
    return child


def test_the_shred_log_names_children_by_id_and_pseudonym_hash_only(tmp_path: Path) -> None:
    log = tmp_path / "shred.jsonl"
    child = Child(id=7, pseudonym="Blå Räv 12")
    shredlog.append(log, [shredlog.entry_for(child, utcnow())])
    line = log.read_text()
    assert "Blå Räv" not in line
    assert shredlog.read(log)[0]["child_id"] == 7
    assert log.stat().st_mode & 0o077 == 0


def test_reapply_shreds_logged_children_the_database_still_holds(
    db: Session, world: Council3, tmp_path: Path
) -> None:
    shredded = _closed_child_with_record(db, world, TINDRA)
    still_open = enrol(db, world.coordinator, world.council, MELKER)
    other = _closed_child_with_record(db, world, SIGRID)
    log = tmp_path / "shred.jsonl"
    shredlog.append(
        log,
        [
            shredlog.entry_for(shredded, utcnow()),
            shredlog.entry_for(still_open, utcnow()),
            # An id handed out again after the restore: another child now, left alone.
            {**shredlog.entry_for(other, utcnow()), "pseudonym_sha256": "0" * 64},
            {"child_id": 999_999, "pseudonym_sha256": "1" * 64, "shredded_at": "2026-01-01"},
        ],
    )
    result = reapply(db, log, today_local())
    assert set(result.children) == {shredded.id, still_open.id}
    assert result.mismatched == (other.id,)
    assert result.absent == 1
    for child in (shredded, still_open):
        assert child.status is ChildStatus.SHREDDED
        assert child.identity_index is None
        keys = db.scalar(
            select(func.count())
            .select_from(RecordKey)
            .join(Record, Record.id == RecordKey.record_id)
            .where(Record.child_id == child.id)
        )
        assert keys == 0
    assert other.status is ChildStatus.CLOSED
    assert reapply(db, log, today_local()).children == ()


def test_sync_appends_shredded_children_the_log_misses(
    db: Session, world: Council3, tmp_path: Path
) -> None:
    child = _closed_child_with_record(db, world, TINDRA)
    log = tmp_path / "shred.jsonl"
    from secrecy.records import sealing

    sealing.shred_child(db, child)
    assert shredlog.sync(db, log) == 1
    assert shredlog.sync(db, log) == 0
    assert [e["child_id"] for e in shredlog.read(log)] == [child.id]


def test_reapply_log_and_sync_log_commands(
    app: Flask, db: Session, world: Council3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "shred.jsonl"
    monkeypatch.setitem(app.config, "SHRED_LOG", str(log))
    child = _closed_child_with_record(db, world, TINDRA)
    shredlog.append(log, [shredlog.entry_for(child, utcnow())])
    runner = app.test_cli_runner()

    result = runner.invoke(args=["retention", "reapply-log"])

    assert result.exit_code == 0, result.output
    assert "1 barn gallrade på nytt" in result.output
    assert child.pseudonym not in result.output
    db.expire_all()
    assert child.status is ChildStatus.SHREDDED
    synced = runner.invoke(args=["retention", "sync-log"])
    assert synced.exit_code == 0, synced.output
    assert "0 barn tillagda" in synced.output
    monkeypatch.setitem(app.config, "SHRED_LOG", None)
    refused = runner.invoke(args=["retention", "reapply-log"])
    assert refused.exit_code == 1
    assert "SAMVERKAN_SHRED_LOG" in refused.output


# --- files and refusals (any database) -----------------------------------------------------------


def test_backup_refuses_sqlite_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="bara för PostgreSQL"):
        require_postgresql(f"sqlite:///{tmp_path / 'x.sqlite'}")
    application = create_app(make_test_config(f"sqlite:///{tmp_path / 'x.sqlite'}"))
    runner = application.test_cli_runner()
    for args in (["backup", "create", str(tmp_path / "out")], ["backup", "restore", str(tmp_path)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert "bara för PostgreSQL" in result.output
    get_database(application).engine.dispose()


def test_a_tampered_dump_is_refused_before_anything_is_restored(tmp_path: Path) -> None:
    dump = tmp_path / "b.dump"
    dump.write_bytes(b"PGDMP original")
    manifest = manifests.Manifest(
        created_at="2026-12-01T00:00:00+00:00",
        app_version="0.1.0",
        database="x",
        migration_head="abc",
        audit=manifests.AuditHead(3, "f" * 64),
        master_key={"configured_version": 1, "versions_in_use": [1]},
        dump=manifests.DumpFile("b.dump", sha256_of(dump), 14),
    )
    manifest.write(tmp_path / "b.manifest.json")
    assert (tmp_path / "b.manifest.json").stat().st_mode & 0o077 == 0
    assert load_and_check(tmp_path / "b.manifest.json")[1] == manifest
    assert "key" not in json.dumps(json.loads((tmp_path / "b.manifest.json").read_text())["audit"])
    dump.write_bytes(b"PGDMP tampered")
    with pytest.raises(BackupError, match="Kontrollsumman"):
        load_and_check(dump)


# --- the whole cycle on PostgreSQL ---------------------------------------------------------------


@pytest.fixture
def scratch_urls(database_url: str) -> Iterator[tuple[str, str] | None]:
    """Two scratch databases next to the test database: ``<name>_bk_src`` and ``_bk_dst``
    (None on SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield None
        return
    names = [f"{url.database}_bk_src", f"{url.database}_bk_dst"]
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    source, target = (url.set(database=n).render_as_string(hide_password=False) for n in names)
    yield source, target
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(application: Flask) -> tuple[int, int]:
    """A council, its coordinator and two children with a record each, committed."""
    with application.app_context():
        session = db_session()
        for factory in factories.ALL_FACTORIES:
            factory._meta.sqlalchemy_session = session
        with transaction(session):
            agency = factories.AgencyFactory(kind=AgencyKind.SOCIAL_SERVICES, name="Soc")
            council = factories.CouncilFactory(agencies=[agency], name="Rådet", code="BK")
            coordinator = factories.UserFactory(
                agency=agency, email="c@example.com", roles={Role.COORDINATOR, Role.MEMBER}
            )
            factories.MembershipFactory(
                council=council, user=coordinator, council_role=CouncilRole.COORDINATOR
            )
            ids = []
            for person in (TINDRA, MELKER):
                child = enrol(session, coordinator, council, person)
                create_record(session, coordinator, child, "family", "Anteckning")
                ids.append(child.id)
    return ids[0], ids[1]


def _shred(application: Flask, child_id: int) -> None:
    with application.app_context():
        session = db_session()
        with transaction(session):
            child = session.get(Child, child_id)
            assert child is not None
            child.status = ChildStatus.CLOSED
            child.closed_on = today_local()
            from secrecy.records import sealing

            sealing.shred_child(session, child)


def test_a_restored_older_backup_does_not_bring_a_shredded_child_back(
    scratch_urls: tuple[str, str] | None, tmp_path: Path
) -> None:
    if scratch_urls is None:  # SQLite: refused, as test_backup_refuses_sqlite… checks in full
        with pytest.raises(BackupError):
            require_postgresql("sqlite://")
        return
    source_url, target_url = scratch_urls
    log = tmp_path / "shred-log.jsonl"
    source = create_app(make_test_config(source_url, SHRED_LOG=str(log)))
    migrate(get_database(source).engine)
    shredded_id, kept_id = _seed(source)

    created = source.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / "b")])
    assert created.exit_code == 0, created.output
    (manifest_path,) = (tmp_path / "b").glob("*.manifest.json")
    (dump_path,) = (tmp_path / "b").glob("*.dump")
    assert dump_path.stat().st_mode & 0o077 == 0  # ciphertext and wrapped keys: owner only
    manifest = json.loads(manifest_path.read_text())
    assert manifest["master_key"] == {"configured_version": 1, "versions_in_use": [1]}
    assert manifest["row_counts"]["public.children"] == 2
    assert manifest["audit"]["seq"] > 0
    assert MASTER_KEY not in manifest_path.read_text()

    _shred(source, shredded_id)  # after the backup: only the shred log remembers it
    assert [e["child_id"] for e in shredlog.read(log)] == [shredded_id]
    get_database(source).engine.dispose()

    target = create_app(make_test_config(target_url, SHRED_LOG=str(log)))
    runner = target.test_cli_runner()
    restored = runner.invoke(args=["backup", "restore", str(manifest_path)])
    assert restored.exit_code == 0, restored.output
    assert "1 barn gallrade på nytt" in restored.output
    assert "Allt stämmer med manifestet." in restored.output
    with target.app_context():
        session = db_session()
        shredded = session.get(Child, shredded_id)
        kept = session.get(Child, kept_id)
        assert shredded is not None and kept is not None
        assert shredded.status is ChildStatus.SHREDDED
        assert kept.status is ChildStatus.ACTIVE
        ciphertexts = session.execute(
            select(Record.child_id, Record.ciphertext).where(Record.child_id.in_([shredded_id]))
        ).all()
        assert ciphertexts and all(ciphertext is None for _, ciphertext in ciphertexts)

    again = runner.invoke(args=["backup", "restore", str(manifest_path)])
    assert again.exit_code == 1
    assert "är inte tom" in again.output
    get_database(target).engine.dispose()
