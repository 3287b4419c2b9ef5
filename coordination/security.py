"""Passwords (argon2id), two-factor TOTP (RFC 6238) and one-time recovery codes."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from coordination.numbers import plain_int

# argon2-cffi's defaults are the RFC 9106 low-memory profile of argon2id.
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOTP_DIGITS = 6
TOTP_STEP = 30
TOTP_ISSUER = "Samverkan"
RECOVERY_CODE_COUNT = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# --- TOTP -------------------------------------------------------------------------------------


def new_totp_secret() -> bytes:
    return os.urandom(20)


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, TOTP_DIGITS, hashes.SHA1(), TOTP_STEP, enforce_key_length=True)  # noqa: S303 - RFC 6238 authenticator apps use SHA-1


def totp_uri(secret: bytes, account: str) -> str:
    return _totp(secret).get_provisioning_uri(account, TOTP_ISSUER)


def totp_base32(secret: bytes) -> str:
    return base64.b32encode(secret).decode().rstrip("=")


def totp_code(secret: bytes, at: float | None = None) -> str:
    return _totp(secret).generate(int(at if at is not None else time.time())).decode()


def verify_totp(secret: bytes, code: str, at: float | None = None) -> int | None:
    """The time step the code belongs to, or None.

    Accepts the current step and one on either side (clock drift), nothing else. The caller
    refuses a step it has already accepted, so a code cannot be replayed.
    """
    code = code.replace(" ", "").strip()
    if len(code) != TOTP_DIGITS or plain_int(code) is None:
        return None
    now = int(at if at is not None else time.time())
    totp = _totp(secret)
    for drift in (0, -TOTP_STEP, TOTP_STEP):
        try:
            totp.verify(code.encode(), now + drift)
        except InvalidToken:
            continue
        return (now + drift) // TOTP_STEP
    return None


@dataclass(frozen=True)
class MasterKeyRing:
    """The configured master keys by version. The current version seals; any version opens.

    The keys come from the environment or the instance folder, never from the database.
    """

    current_version: int
    keys: Mapping[int, bytes]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MasterKeyRing:
        return cls(int(config["MASTER_KEY_VERSION"]), dict(config["MASTER_KEYS"]))

    @property
    def current(self) -> bytes:
        return self.keys[self.current_version]

    def key(self, version: int) -> bytes:
        try:
            return self.keys[version]
        except KeyError:
            raise LookupError(
                f"master key version {version} is not configured (SAMVERKAN_MASTER_KEYS_RETIRED)"
            ) from None


def _totp_sealing_key(master_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"samverkan:totp-secret:v1"
    ).derive(master_key)


def seal_totp_secret(ring: MasterKeyRing, user_id: int, secret: bytes) -> bytes:
    """TOTP secrets are encrypted at rest, bound to their user, tagged with the key version."""
    nonce = os.urandom(12)
    aad = f"user:{user_id}".encode()
    sealed = AESGCM(_totp_sealing_key(ring.current)).encrypt(nonce, secret, aad)
    return ring.current_version.to_bytes(2, "big") + nonce + sealed


def open_totp_secret(ring: MasterKeyRing, user_id: int, sealed: bytes) -> bytes:
    version = int.from_bytes(sealed[:2], "big")
    aad = f"user:{user_id}".encode()
    key = _totp_sealing_key(ring.key(version))
    return AESGCM(key).decrypt(sealed[2:14], sealed[14:], aad)


def totp_sealed_version(sealed: bytes) -> int:
    return int.from_bytes(sealed[:2], "big")


# --- Recovery codes ---------------------------------------------------------------------------


def new_recovery_codes() -> list[str]:
    """Ten codes of 80 random bits, shown once, grouped for reading aloud: ``abcd-efgh-...``."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(os.urandom(10)).decode().lower()
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    # High-entropy random codes need no slow hash; SHA-256 keeps the check constant-time cheap.
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


class WorkerKeyCache:
    """Unwrapped keys this worker process keeps across transactions, for ``ttl`` seconds:
    agency keys by ``(agency id, version)``, system keys by ``(purpose, 0)``.

    Only ``secrecy.records.crypto`` reads and fills it (after the transaction that loaded a
    key committed); it lives in this process's memory and nowhere else. ``generation`` is the
    database's ``key_generations`` number the entries belong to: a transaction that reads
    another number empties the cache before it looks (``sync``).
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._entries: dict[tuple[int | str, int], tuple[bytes, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def sync(self, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation

    def get(self, generation: int, key: tuple[int | str, int]) -> bytes | None:
        with self._lock:
            if generation != self._generation:
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[0]

    def store(self, generation: int, keys: Mapping[tuple[int | str, int], bytes]) -> None:
        """Keep ``keys`` (loaded under ``generation``) unless the cache moved on meanwhile."""
        expires = time.monotonic() + self.ttl
        with self._lock:
            if generation != self._generation:
                return
            for key, value in keys.items():
                self._entries[key] = (value, expires)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:  # never the keys, should a cache ever be printed
        return f"<WorkerKeyCache ttl={self.ttl} entries={len(self._entries)}>"
