"""The keys: sealing primitives, the associated data that binds a ciphertext to its row, and the
``KeyRing`` that unwraps and caches agency, system and record keys. Part of
``secrecy.records.crypto`` (the package's docstring says what is sealed how); nothing outside the
package imports it."""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coordination.db import KEY_CACHE_INFO, MASTER_KEYS_INFO
from coordination.models import KEY_GENERATION_BUMPED, KeyGeneration
from coordination.security import MasterKeyRing, WorkerKeyCache
from secrecy.models import AgencyKey, Record, SystemKey

NONCE_BYTES = 12
KEY_BYTES = 32
BLIND_INDEX_PURPOSE = "blind-index"
CHILD_FACTS_PURPOSE = "child-facts"
AUDIT_SIGNING_PURPOSE = "audit-signing"
_SESSION_KEY = "samverkan.keyring"


class SealingError(Exception):
    """A ciphertext or wrapped key did not open: tampered, moved, or under the wrong key."""


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes, what: str, *what_args: object) -> bytes:
    return open_blob(AESGCM(key), blob, aad, what, *what_args)


def open_blob(cipher: AESGCM, blob: bytes, aad: bytes, what: str, *what_args: object) -> bytes:
    """Decrypt ``nonce || ciphertext``. ``what % what_args`` names it in the error (formatted
    only then: a reveal opens two blobs per record)."""
    try:
        return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError) as exc:
        name = what % what_args if what_args else what
        raise SealingError(f"{name} failed to open (tampered, moved or wrong key)") from exc


def record_aad(record: Record) -> bytes:
    return content_aad(record.id, record.child_id, record.owner_agency_id, record.category)


def content_aad(record_id: int, child_id: int, owner_agency_id: int, category: str) -> bytes:
    return (
        f"samverkan:record:{record_id}:child:{child_id}:owner:{owner_agency_id}:cat:{category}"
    ).encode()


def record_key_aad(record_id: int, agency_id: int, version: int) -> bytes:
    return f"samverkan:record-key:{record_id}:agency:{agency_id}:v:{version}".encode()


def agency_key_aad(agency_id: int, version: int) -> bytes:
    return f"samverkan:agency-key:{agency_id}:v:{version}".encode()


def system_key_aad(purpose: str) -> bytes:
    return f"samverkan:system-key:{purpose}".encode()


class KeyRing:
    """Unwrapped keys for one database session. Creates an agency's first key on demand."""

    def __init__(
        self, session: Session, master: MasterKeyRing, cache: WorkerKeyCache | None = None
    ) -> None:
        self.session = session
        self.master = master
        self._cache = cache if cache is not None and cache.enabled else None
        # The database's key generation as this transaction read it (once, on first use of
        # the worker's cache), and the agency keys it unwrapped or created: published to the
        # cache when the transaction commits.
        self._generation: int | None = None
        self.loaded: dict[tuple[int | str, int], bytes] = {}
        self._agency_keys: dict[tuple[int, int], bytes] = {}
        # AESGCM objects of the unwrapped agency and system keys: a reveal opens hundreds of
        # data keys under one agency key, and setting a cipher up costs as much as a decryption.
        self._agency_ciphers: dict[tuple[int, int], AESGCM] = {}
        self._system_ciphers: dict[str, AESGCM] = {}
        self._active: dict[int, int] = {}
        self._system: dict[str, bytes] = {}

    # -- agency keys --------------------------------------------------------------------------

    def _unwrap_agency_key(self, row: AgencyKey) -> bytes:
        cached = self._from_worker_cache(row.agency_id, row.version)
        if cached is not None:
            self._remember_agency_key(row.agency_id, row.version, cached)
            return cached
        key = decrypt(
            self.master.key(row.master_version),
            row.wrapped_key,
            agency_key_aad(row.agency_id, row.version),
            f"agency key {row.agency_id}/{row.version}",
        )
        self._remember_agency_key(row.agency_id, row.version, key)
        self.loaded[(row.agency_id, row.version)] = key
        return key

    # -- the worker's cache -------------------------------------------------------------------

    def _from_worker_cache(self, owner: int | str, version: int) -> bytes | None:
        """An agency key by (agency id, version), or a system key by (purpose, 0)."""
        if self._cache is None:
            return None
        generation = self.generation()
        return self._cache.get(generation, (owner, version)) if generation else None

    def generation(self) -> int | None:
        """The database's key generation, read once per transaction (one indexed row); the
        worker's cache is emptied if it holds another one."""
        if self._cache is None:
            return None
        if self._generation is None:
            found = self.session.scalar(
                select(KeyGeneration.generation).where(KeyGeneration.id == 1)
            )
            if found is None:
                return None
            self._generation = int(found)
            self._cache.sync(self._generation)
        return self._generation

    def wants_generation(self) -> bool:
        """Whether ``generation`` would read the database: the worker's cache is on and this
        transaction has not read the generation yet."""
        return self._cache is not None and self._generation is None

    def adopt_generation(self, found: int | None) -> None:
        """The database's key generation as another statement of this transaction read it
        (a column of the reveal's first statement): ``generation`` then needs no statement
        of its own. None (no row, or no row came back) leaves the read to ``generation``."""
        if self._cache is None or self._generation is not None or found is None:
            return
        self._generation = int(found)
        self._cache.sync(self._generation)

    def publish(self) -> None:
        """After this ring's transaction committed: hand its unwrapped agency keys to the
        worker's cache (unless the transaction moved the key generation on)."""
        if self._cache is None:
            return
        if self.session.info.get(KEY_GENERATION_BUMPED):
            self._cache.clear()  # this worker at once; the others at their next look
            return
        if self._generation is not None and self.loaded:
            self._cache.store(self._generation, self.loaded)

    def _remember_agency_key(self, agency_id: int, version: int, key: bytes) -> None:
        self._agency_keys[(agency_id, version)] = key
        self._agency_ciphers.pop((agency_id, version), None)

    def create_agency_key(self, agency_id: int, version: int) -> AgencyKey:
        key = os.urandom(KEY_BYTES)
        row = AgencyKey(
            agency_id=agency_id,
            version=version,
            master_version=self.master.current_version,
            wrapped_key=encrypt(self.master.current, key, agency_key_aad(agency_id, version)),
            active=True,
        )
        self.session.add(row)
        self.session.flush()
        self._remember_agency_key(agency_id, version, key)
        self.loaded[(agency_id, version)] = key
        return row

    def active_agency_key(self, agency_id: int) -> tuple[int, bytes]:
        version = self._active.get(agency_id)
        if version is not None:
            return version, self._agency_keys[(agency_id, version)]
        row = self._locked_active_row(agency_id)
        if row is None:
            row = self._create_first_key(agency_id)
            key = self._agency_keys[(agency_id, row.version)]
        else:
            key = self._agency_keys.get((agency_id, row.version)) or self._unwrap_agency_key(row)
        self._active[agency_id] = row.version
        return row.version, key

    def _locked_active_row(self, agency_id: int) -> AgencyKey | None:
        """The active key row, share-locked until commit: a rotation (which locks it for update)
        waits for sealers to finish, and sealers wait for a rotation, so no data key is ever
        wrapped under a version that a rotation has already retired."""
        query = (
            select(AgencyKey)
            .where(AgencyKey.agency_id == agency_id, AgencyKey.active.is_(True))
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
        row = self.session.scalars(query).one_or_none()
        if row is None:
            # A rotation that committed while we waited retired the row we queued for; its new
            # key is visible to a new statement.
            row = self.session.scalars(query).one_or_none()
        return row

    def _create_first_key(self, agency_id: int) -> AgencyKey:
        try:
            with self.session.begin_nested():
                return self.create_agency_key(agency_id, 1)
        except IntegrityError:
            # Another session created the agency's first key at the same moment: use theirs.
            self._agency_keys.pop((agency_id, 1), None)
            self._agency_ciphers.pop((agency_id, 1), None)
            self.loaded.pop((agency_id, 1), None)
            row = self._locked_active_row(agency_id)
            if row is None:
                raise
            self._unwrap_agency_key(row)
            return row

    def agency_key(self, agency_id: int, version: int) -> bytes:
        cached = self._agency_keys.get((agency_id, version)) or self._from_worker_cache(
            agency_id, version
        )
        if cached is not None:
            self._remember_agency_key(agency_id, version, cached)
            return cached
        row = self.session.scalars(
            select(AgencyKey).where(AgencyKey.agency_id == agency_id, AgencyKey.version == version)
        ).one_or_none()
        if row is None:
            raise SealingError(f"agency key {agency_id}/{version} does not exist")
        return self._unwrap_agency_key(row)

    def agency_cipher(self, agency_id: int, version: int) -> AESGCM:
        cipher = self._agency_ciphers.get((agency_id, version))
        if cipher is None:
            cipher = AESGCM(self.agency_key(agency_id, version))
            self._agency_ciphers[(agency_id, version)] = cipher
        return cipher

    def forget_active(self, agency_id: int) -> None:
        self._active.pop(agency_id, None)

    # -- system keys --------------------------------------------------------------------------

    def system_key(self, purpose: str) -> bytes:
        cached = self._system.get(purpose)
        if cached is not None:
            return cached
        cached = self._from_worker_cache(purpose, 0)
        if cached is not None:
            self._system[purpose] = cached
            return cached
        row = self.session.get(SystemKey, purpose)
        key = self._create_system_key(purpose) if row is None else self._unwrap_system_key(row)
        self._system[purpose] = key
        self.loaded[(purpose, 0)] = key  # in the worker's cache once this transaction commits
        return key

    def _create_system_key(self, purpose: str) -> bytes:
        key = os.urandom(KEY_BYTES)
        try:
            with self.session.begin_nested():
                self.session.add(
                    SystemKey(
                        purpose=purpose,
                        master_version=self.master.current_version,
                        wrapped_key=encrypt(self.master.current, key, system_key_aad(purpose)),
                    )
                )
        except IntegrityError:
            # Another session created the key at the same moment (two workers' first use of
            # it, e.g. the first two enrolments at once): its insert has committed, so theirs
            # is the key, and the next statement sees it.
            row = self.session.get(SystemKey, purpose, populate_existing=True)
            if row is None:
                raise
            return self._unwrap_system_key(row)
        return key

    def _unwrap_system_key(self, row: SystemKey) -> bytes:
        return decrypt(
            self.master.key(row.master_version),
            row.wrapped_key,
            system_key_aad(row.purpose),
            f"system key {row.purpose}",
        )

    def system_cipher(self, purpose: str) -> AESGCM:
        cipher = self._system_ciphers.get(purpose)
        if cipher is None:
            cipher = AESGCM(self.system_key(purpose))
            self._system_ciphers[purpose] = cipher
        return cipher

    # -- master rotation ----------------------------------------------------------------------

    def rewrap_under_current_master(self, row: AgencyKey | SystemKey) -> bool:
        """Re-wrap one agency or system key under the current master version."""
        if row.master_version == self.master.current_version:
            return False
        if isinstance(row, AgencyKey):
            aad = agency_key_aad(row.agency_id, row.version)
            what = f"agency key {row.agency_id}/{row.version}"
        else:
            aad = system_key_aad(row.purpose)
            what = f"system key {row.purpose}"
        key = decrypt(self.master.key(row.master_version), row.wrapped_key, aad, what)
        row.wrapped_key = encrypt(self.master.current, key, aad)
        row.master_version = self.master.current_version
        return True


def keyring(session: Session) -> KeyRing:
    """The key ring of this session, created on first use from the app's master keys."""
    ring = session.info.get(_SESSION_KEY)
    if ring is None:
        master = session.info.get(MASTER_KEYS_INFO)
        if not isinstance(master, MasterKeyRing):
            raise RuntimeError("this database session was not created by the app's session factory")
        cache = session.info.get(KEY_CACHE_INFO)
        ring = KeyRing(session, master, cache if isinstance(cache, WorkerKeyCache) else None)
        session.info[_SESSION_KEY] = ring
    return ring


@event.listens_for(Session, "after_commit")
def _publish_keys_after_the_commit(session: Session) -> None:
    # Only now do the keys this transaction unwrapped (or created) certainly exist as loaded:
    # a rolled-back transaction never gets here, and its ring is dropped below.
    ring = session.info.get(_SESSION_KEY)
    if isinstance(ring, KeyRing):
        ring.publish()
    elif session.info.get(KEY_GENERATION_BUMPED):
        cache = session.info.get(KEY_CACHE_INFO)
        if isinstance(cache, WorkerKeyCache):
            cache.clear()


@event.listens_for(Session, "after_transaction_end")
def _forget_keys_when_the_transaction_ends(session: Session, transaction: Any) -> None:
    # Committed, rolled back or closed: the share locks on active keys are gone and a key
    # created in a transaction that did not commit does not exist. Start afresh next time.
    if transaction.parent is None:
        session.info.pop(_SESSION_KEY, None)
        session.info.pop(KEY_GENERATION_BUMPED, None)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_keys_on_rollback(session: Session, *args: Any) -> None:
    # A key created in a rolled-back transaction does not exist; never seal with it.
    session.info.pop(_SESSION_KEY, None)
