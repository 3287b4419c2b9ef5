"""Assurance levels (tillitsnivåer): what a log-in is worth, and what opening records needs.

A level is one of DIGG's tillitsnivåer 1–4; eIDAS's low/substantial/high map onto 2/3/4 as
DIGG's own mapping does. A provider's ``acr`` (OIDC) or ``AuthnContextClassRef`` (SAML) is
read into a level with :func:`level_of_acr`; the local password + TOTP log-in counts as the
configured ``LOCAL_TOTP_ASSURANCE`` (``LOCAL_PASSWORD_ASSURANCE`` without a second factor).

The session's level and the level required of the viewer's agency travel with the viewer as a
:class:`SessionAssurance` (set when the request's user is loaded): the one door,
``secrecy.records.reveal``, withholds everything from a viewer whose session is below it.
A viewer without one (scheduler jobs, the command line) is not a person at a browser and is
not held to a level.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


class Assurance(enum.IntEnum):
    LOA1 = 1
    LOA2 = 2
    LOA3 = 3
    LOA4 = 4

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, code: str | None) -> Assurance | None:
        """``"loa3"`` → LOA3; empty or ``"none"`` → None."""
        if not code or code == "none":
            return None
        return cls[code.upper()]


ASSURANCE_LABELS = {
    Assurance.LOA1: _l("Tillitsnivå 1"),
    Assurance.LOA2: _l("Tillitsnivå 2 (eIDAS låg)"),
    Assurance.LOA3: _l("Tillitsnivå 3 (eIDAS väsentlig)"),
    Assurance.LOA4: _l("Tillitsnivå 4 (eIDAS hög)"),
}

# The acr / AuthnContextClassRef values Swedish providers send (DIGG's "Tillitsramverk för
# Svensk e-legitimation" and the eIDAS levels as DIGG names them and as the EU does).
_DIGG = "http://id.elegnamnden.se/loa/1.0/"
_EIDAS = "http://eidas.europa.eu/LoA/"
KNOWN_ACR: Mapping[str, Assurance] = {
    _DIGG + "loa1": Assurance.LOA1,
    _DIGG + "loa2": Assurance.LOA2,
    _DIGG + "loa3": Assurance.LOA3,
    _DIGG + "loa4": Assurance.LOA4,
    _DIGG + "eidas-low": Assurance.LOA2,
    _DIGG + "eidas-sub": Assurance.LOA3,
    _DIGG + "eidas-high": Assurance.LOA4,
    _DIGG + "eidas-nf-low": Assurance.LOA2,
    _DIGG + "eidas-nf-sub": Assurance.LOA3,
    _DIGG + "eidas-nf-high": Assurance.LOA4,
    _DIGG + "uncertified-loa3": Assurance.LOA2,
    _EIDAS + "low": Assurance.LOA2,
    _EIDAS + "substantial": Assurance.LOA3,
    _EIDAS + "high": Assurance.LOA4,
}

# What to ask a provider for when a higher level is needed (step-up).
ACR_FOR_LEVEL: Mapping[Assurance, str] = {
    Assurance.LOA2: _DIGG + "loa2",
    Assurance.LOA3: _DIGG + "loa3",
    Assurance.LOA4: _DIGG + "loa4",
}


def level_of_acr(acr: str | None, extra: Mapping[str, str] | None = None) -> Assurance | None:
    """The level a provider's ``acr`` stands for: the provider's own mapping first (an
    organisation's private values, e.g. Entra ID's), then the well-known URIs. An unknown or
    missing value is no level at all."""
    if not acr:
        return None
    if extra and acr in extra:
        return Assurance.parse(extra[acr])
    return KNOWN_ACR.get(acr)


def highest(levels: Iterable[Assurance | None]) -> Assurance | None:
    present = [level for level in levels if level is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class SessionAssurance:
    """The log-in's level and the level the viewer's agency requires to open records."""

    level: Assurance | None
    required: Assurance | None

    @property
    def too_low(self) -> bool:
        if self.required is None:
            return False
        return self.level is None or self.level < self.required


_ATTRIBUTE = "_samverkan_session_assurance"


def attach_session_assurance(user: Any, assurance: SessionAssurance) -> None:
    """Carry the assurance with the request's user object (never stored)."""
    setattr(user, _ATTRIBUTE, assurance)


def session_assurance(user: Any) -> SessionAssurance | None:
    value = getattr(user, _ATTRIBUTE, None)
    return value if isinstance(value, SessionAssurance) else None


def required_level(config: Mapping[str, Any], agency_required: str | None) -> Assurance | None:
    """The deployment's level and the agency's, whichever is higher."""
    return highest(
        [
            Assurance.parse(config.get("ASSURANCE_REQUIRED_FOR_RECORDS")),
            Assurance.parse(agency_required),
        ]
    )


def local_level(config: Mapping[str, Any], method: str) -> Assurance | None:
    """What a local log-in counts as: with a second factor, without one."""
    if "+" in method:
        return Assurance.parse(config.get("LOCAL_TOTP_ASSURANCE"))
    return Assurance.parse(config.get("LOCAL_PASSWORD_ASSURANCE"))


def assurance_of_session(
    config: Mapping[str, Any], cookie: Mapping[str, Any], agency_required: str | None
) -> SessionAssurance:
    """The signed session cookie's level: a provider's log-in stores it (``assurance``, absent
    when the provider sent no known acr); a local log-in counts as its configured level."""
    if cookie.get("idp"):
        level = Assurance.parse(cookie.get("assurance"))
    else:
        level = local_level(config, str(cookie.get("auth_method") or "password"))
    return SessionAssurance(level=level, required=required_level(config, agency_required))
