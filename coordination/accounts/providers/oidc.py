"""OpenID Connect with Authlib: the client of one provider, the check of its discovery document.

Authlib does the protocol: the authorization request with ``state``, ``nonce`` and PKCE (S256),
the state kept in the signed session cookie and checked at the callback, the code exchange, and
the ID token's signature (the provider's JWKS), issuer, audience, expiry and nonce. Nothing
here parses a token by hand.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from coordination.accounts.providers.models import IdentityProvider

DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SCOPE = "openid profile email"


class ProviderUnusable(Exception):
    """The provider's configuration cannot be used; the message is Swedish, for the page."""


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def require_secure_url(url: str) -> None:
    """https, except a provider on the machine itself (development and the tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ProviderUnusable(_("Adressen måste börja med https://."))


def client_secret(provider: IdentityProvider) -> str:
    """The secret from the environment variable the provider names."""
    value = os.environ.get(provider.client_secret_env, "")
    if not value:
        raise ProviderUnusable(
            _(
                "Miljövariabeln %(name)s med klienthemligheten är inte satt på servern.",
                name=provider.client_secret_env,
            )
        )
    return value


# What is kept of a checked discovery document.
KEPT_METADATA = (
    *REQUIRED_METADATA,
    "end_session_endpoint",
    "userinfo_endpoint",
    "id_token_signing_alg_values_supported",
    "token_endpoint_auth_methods_supported",
    "code_challenge_methods_supported",
    "acr_values_supported",
)


@dataclass(frozen=True)
class Discovery:
    metadata: dict[str, Any]


def check_discovery(issuer: str, timeout: float) -> Discovery:
    """Fetch and validate the provider's discovery document (saving a provider)."""
    require_secure_url(issuer)
    try:
        response = requests.get(discovery_url(issuer), timeout=timeout)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnusable(
            _(
                "Inloggningstjänstens beskrivning kunde inte hämtas från %(url)s.",
                url=discovery_url(issuer),
            )
        ) from exc
    if not isinstance(metadata, dict) or any(not metadata.get(key) for key in REQUIRED_METADATA):
        raise ProviderUnusable(
            _(
                "Inloggningstjänstens beskrivning saknar något av %(fields)s.",
                fields=", ".join(REQUIRED_METADATA),
            )
        )
    if metadata["issuer"] != issuer:
        raise ProviderUnusable(
            _(
                "Inloggningstjänsten uppger utfärdaren %(found)s, inte %(expected)s.",
                found=str(metadata["issuer"])[:200],
                expected=issuer,
            )
        )
    if "code" not in metadata.get("response_types_supported", ["code"]):
        raise ProviderUnusable(_("Inloggningstjänsten stöder inte auktoriseringskodflödet."))
    methods = metadata.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        raise ProviderUnusable(_("Inloggningstjänsten stöder inte PKCE med S256."))
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        require_secure_url(str(metadata[key]))
    if metadata.get("end_session_endpoint"):
        require_secure_url(str(metadata["end_session_endpoint"]))
    return Discovery({key: metadata[key] for key in KEPT_METADATA if key in metadata})


def client_for(provider: IdentityProvider, timeout: float) -> FlaskOAuth2App:
    """The provider's Authlib client, made for each request from the saved provider (cheap:
    the checked discovery document is saved, so nothing is fetched; the JWKS is fetched when
    an ID token is checked, so a provider's new signing key is used at once)."""
    name = f"idp{provider.id}"
    client = FlaskOAuth2App(
        FlaskIntegration(name),
        name=name,
        client_id=provider.client_id,
        client_secret=client_secret(provider),
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
        # The checked discovery document: Authlib reads the endpoints from it (no fetch).
        **{
            key: value for key, value in (provider.discovered or {}).items() if key in KEPT_METADATA
        },
    )
    return client


def authorization_redirect(
    provider: IdentityProvider, redirect_uri: str, timeout: float, acr: str | None
) -> Any:
    """The redirect to the provider (state, nonce and PKCE verifier kept in the session)."""
    extra: dict[str, str] = {}
    if acr:
        extra["acr_values"] = acr
    try:
        return client_for(provider, timeout).authorize_redirect(redirect_uri, **extra)
    except (requests.RequestException, ValueError, OAuthError) as exc:
        raise ProviderUnusable(_("Inloggningstjänsten svarar inte just nu.")) from exc


def finish_authorization(provider: IdentityProvider, timeout: float) -> dict[str, Any]:
    """The validated ID token's claims for the callback request. Raises ``OAuthError`` (and
    the JOSE errors) on a changed state, a wrong issuer, nonce or signature, an expired token."""
    client = client_for(provider, timeout)
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [provider.issuer]},
                "sub": {"essential": True},
            },
            leeway=60,
        )
    except requests.RequestException as exc:  # the token or key endpoint did not answer
        raise ProviderUnusable(_("Inloggningstjänsten svarar inte just nu.")) from exc
    userinfo = token.get("userinfo")
    if not userinfo:
        raise OAuthError(error="missing_id_token")
    return dict(userinfo)


def logout_url(
    provider: IdentityProvider, timeout: float, post_logout_redirect_uri: str
) -> str | None:
    """RP-initiated logout at the provider, where it has an end_session_endpoint."""
    if not provider.end_session_endpoint:
        return None
    try:
        result = client_for(provider, timeout).create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri, client_id=provider.client_id
        )
    except (requests.RequestException, ValueError, OAuthError, RuntimeError):
        return None
    url = result.get("url") if isinstance(result, dict) else None
    return str(url) if url else None


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token older than this (plus the leeway) is refused: it is sent the moment the
# provider's session ends.
LOGOUT_TOKEN_MAX_AGE = 300
LOGOUT_TOKEN_LEEWAY = 60
# How long one token can be accepted: from its ``iat`` less the leeway (a clock ahead of ours)
# to its ``iat`` plus the maximum age and the leeway. A ``jti`` accepted is remembered this long
# after it was accepted, so a replay inside the window is refused (logout_tokens.py).
LOGOUT_TOKEN_WINDOW = dt.timedelta(seconds=LOGOUT_TOKEN_MAX_AGE + 2 * LOGOUT_TOKEN_LEEWAY)


class LogoutTokenRefused(Exception):
    """The logout token was not accepted; the reason is for the audit event."""


@dataclass(frozen=True)
class LogoutToken:
    """What a validated logout token names: the subject and/or the provider's session, and its
    unique identifier (``jti``)."""

    sub: str | None
    sid: str | None
    jti: str


def validate_logout_token(
    provider: IdentityProvider, logout_token: str, timeout: float
) -> LogoutToken:
    """OpenID Connect Back-Channel Logout 1.0: the logout token's signature (the provider's
    JWKS, fetched again once for an unknown key), ``iss``, ``aud``, ``iat`` (not in the future,
    not older than five minutes), ``exp`` where present, a ``jti`` (required, §2.4; whether it
    was seen before is ``logout_tokens.remember_logout_token``'s), the back-channel ``events``
    member, no ``nonce``, and a ``sub`` or ``sid``."""
    client = client_for(provider, timeout)
    algorithms = list(
        (provider.discovered or {}).get("id_token_signing_alg_values_supported") or ["RS256"]
    )
    algorithms = [a for a in algorithms if a != "none"] or ["RS256"]
    token = None
    for force in (False, True):
        try:
            keys = KeySet.import_key_set(client.fetch_jwk_set(force=force))
            token = jwt.decode(logout_token, keys, algorithms=algorithms)
            break
        except requests.RequestException as exc:
            raise LogoutTokenRefused("jwks_unreachable") from exc
        except JoseError as exc:
            if force:
                raise LogoutTokenRefused(str(exc.error or type(exc).__name__)[:60]) from exc
        except ValueError as exc:
            raise LogoutTokenRefused("malformed") from exc
    if token is None:
        raise LogoutTokenRefused("signature")
    claims = token.claims
    registry = jwt.JWTClaimsRegistry(
        leeway=LOGOUT_TOKEN_LEEWAY,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "values": [provider.client_id]},
        iat={"essential": True},
        events={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise LogoutTokenRefused(str(exc.error or "claims")[:60]) from exc
    if int(claims["iat"]) < time.time() - LOGOUT_TOKEN_MAX_AGE - LOGOUT_TOKEN_LEEWAY:
        raise LogoutTokenRefused("too_old")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise LogoutTokenRefused("no_jti")
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events:
        raise LogoutTokenRefused("events")
    if "nonce" in claims:
        raise LogoutTokenRefused("nonce")
    sub, sid = claims.get("sub"), claims.get("sid")
    sub = sub if isinstance(sub, str) and sub else None
    sid = sid if isinstance(sid, str) and sid else None
    if sub is None and sid is None:
        raise LogoutTokenRefused("no_sub_or_sid")
    return LogoutToken(sub, sid, jti)


def secret_is_set(variable: str) -> bool:
    return bool(os.environ.get(variable))
