"""SAML 2.0 Web SSO with pysaml2: the service provider of one identity provider, and the check of
the provider's metadata.

pysaml2 does the protocol: the AuthnRequest over HTTP-Redirect (with the requested
AuthnContextClassRef), and at the assertion consumer service the response's signature (the
assertion must be signed by a key in the provider's metadata), issuer, audience, destination,
validity window, and InResponseTo against the one request this browser has outstanding (so an
unsolicited, replayed or another browser's response is refused). Nothing here parses XML by hand.

The deployment is one service provider for every agency: entity id ``<BASE_URL>/saml/metadata``,
assertion consumer service ``<BASE_URL>/saml/acs`` (HTTP-POST) and, where the deployment has a
signing key, single logout ``<BASE_URL>/saml/slo`` (HTTP-Redirect and HTTP-POST, for both
messages): the IdP's LogoutResponse after our LogoutRequest (signed, issued by the provider, in
response to that request), and the IdP's own LogoutRequest (IdP-initiated single logout), which
pysaml2 checks (signature required, issuer, destination, issue instant) and answers with a signed
LogoutResponse.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _

from coordination.accounts.providers.models import IdentityProvider
from coordination.accounts.providers.oidc import Discovery, ProviderUnusable, require_secure_url

with warnings.catch_warnings():
    # pysaml2 (7.5) names cryptography's CFB mode at import; it never uses it for SAML here.
    warnings.simplefilter("ignore", DeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2 import request as saml_request
    from saml2 import response as saml_response
    from saml2.attribute_converter import ac_factory
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.mdstore import MetadataStore
    from saml2.metadata import create_metadata_string
    from saml2.s_utils import (
        SamlException,
        UnsupportedBinding,
        status_message_factory,
        success_status_factory,
    )
    from saml2.saml import AuthnContextClassRef, NameID
    from saml2.samlp import STATUS_UNKNOWN_PRINCIPAL, RequestedAuthnContext
    from saml2.sigver import get_xmlsec_binary, verify_redirect_signature

MAX_METADATA_BYTES = 5_000_000


def _load_metadata(xml: str) -> MetadataStore:
    metadata = MetadataStore(ac_factory(), None)
    metadata.load("inline", xml)
    return metadata


def check_metadata(url: str | None, xml: str | None, timeout: float) -> Discovery:
    """Fetch (or take) the provider's metadata and check it: one identity provider, a single
    sign-on service over HTTP-Redirect, a signing certificate."""
    if url:
        require_secure_url(url)
        try:
            response = requests.get(url, timeout=timeout)
            response.raise_for_status()
            xml = response.text[:MAX_METADATA_BYTES]
        except requests.RequestException as exc:
            raise ProviderUnusable(
                _("Inloggningstjänstens metadata kunde inte hämtas från %(url)s.", url=url)
            ) from exc
    if not xml or not xml.strip():
        raise ProviderUnusable(
            _("Ange adressen till tjänstens SAML-metadata eller klistra in den.")
        )
    try:
        metadata = _load_metadata(xml)
    except Exception as exc:
        raise ProviderUnusable(_("Metadata kunde inte läsas som SAML-metadata.")) from exc
    providers = list(metadata.identity_providers())
    if len(providers) != 1:
        raise ProviderUnusable(
            _(
                "Metadata ska beskriva exakt en identitetsleverantör (IdP), inte %(count)s.",
                count=len(providers),
            )
        )
    entity_id = providers[0]
    services = metadata.single_sign_on_service(entity_id, BINDING_HTTP_REDIRECT)
    if not services:
        raise ProviderUnusable(
            _("Identitetsleverantören saknar inloggning (SingleSignOnService) med HTTP-Redirect.")
        )
    if not metadata.certs(entity_id, "idpsso", "signing"):
        raise ProviderUnusable(_("Identitetsleverantören saknar certifikat för signering."))
    sso_url = str(services[0]["location"])
    require_secure_url(sso_url)
    return Discovery({"entity_id": entity_id, "metadata_xml": xml, "sso_url": sso_url})


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    acs_url: str
    # Single logout: where the IdP answers, and the key the LogoutRequest is signed with.
    slo_url: str | None = None
    key_file: str | None = None
    cert_file: str | None = None

    @property
    def signs(self) -> bool:
        return bool(self.slo_url and self.key_file and self.cert_file)


def _config(
    provider: IdentityProvider | None,
    sp: ServiceProvider,
    *,
    others: Sequence[IdentityProvider] = (),
) -> SPConfig:
    config = SPConfig()
    settings: dict[str, Any] = {
        "entityid": sp.entity_id,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
                "allow_unsolicited": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "authn_requests_signed": False,
            }
        },
        "xmlsec_binary": get_xmlsec_binary(),
        "accepted_time_diff": 60,
        # Signatures are checked with the keys in the provider's metadata only, never with a
        # certificate the message carries itself.
        "only_use_keys_in_metadata": True,
    }
    if sp.signs:
        settings["key_file"] = sp.key_file
        settings["cert_file"] = sp.cert_file
        settings["service"]["sp"]["endpoints"]["single_logout_service"] = [
            (sp.slo_url, BINDING_HTTP_REDIRECT),
            (sp.slo_url, BINDING_HTTP_POST),
        ]
    known = ([provider] if provider is not None else []) + list(others)
    if known:
        settings["metadata"] = {"inline": [p.discovered["metadata_xml"] for p in known]}
    config.load(settings)
    return config


def sp_metadata(sp: ServiceProvider) -> str:
    """The service provider's own metadata, for registering it with a federation."""
    return str(create_metadata_string(None, config=_config(None, sp), sign=False).decode())


def authentication_redirect(
    provider: IdentityProvider, sp: ServiceProvider, relay_state: str, acr: str | None
) -> tuple[str, str]:
    """The AuthnRequest's id (kept in the session) and the provider's address to send the
    browser to."""
    client = Saml2Client(config=_config(provider, sp))
    extra: dict[str, Any] = {}
    if acr:
        extra["requested_authn_context"] = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=acr)], comparison="minimum"
        )
    try:
        request_id, info = client.prepare_for_authenticate(
            entityid=provider.discovered["entity_id"],
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            **extra,
        )
    except (SamlException, KeyError) as exc:
        raise ProviderUnusable(_("Inloggningstjänsten svarar inte just nu.")) from exc
    location = dict(info["headers"])["Location"]
    if urlsplit(location).scheme not in {"https", "http"}:
        raise ProviderUnusable(_("Inloggningstjänsten svarar inte just nu."))
    return str(request_id), str(location)


class AssertionRefused(Exception):
    """pysaml2 refused the response; the reason is for the audit event (no personal data)."""


def consume_response(
    provider: IdentityProvider, sp: ServiceProvider, saml_response: str, request_id: str | None
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The validated assertion as claims: ``NameID``, ``AuthnContextClassRef`` and each
    attribute's first value under its friendly name (``displayName``, ``mail``, ...); and what
    a later LogoutRequest names (the NameID with its format, the session index)."""
    client = Saml2Client(config=_config(provider, sp))
    outstanding = {request_id: "/"} if request_id else {}
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding=outstanding
        )
    except Exception as exc:
        raise AssertionRefused(type(exc).__name__) from exc
    if response is None or response.assertion is None:
        raise AssertionRefused("no_assertion")
    if response.issuer() != provider.discovered["entity_id"]:
        raise AssertionRefused("issuer")
    claims: dict[str, Any] = {}
    for name, values in (response.get_identity() or {}).items():
        if values:
            claims[name] = values[0]
    name_id = response.name_id
    claims["NameID"] = name_id.text if name_id is not None else None
    authn = response.authn_info() or []
    claims["AuthnContextClassRef"] = authn[0][0] if authn else None
    session_index = None
    for statement in response.assertion.authn_statement or []:
        session_index = statement.session_index or session_index
    logout = {
        "name_id": claims["NameID"],
        "format": name_id.format if name_id is not None else None,
        "session_index": session_index,
    }
    return claims, logout


def logout_redirect(
    provider: IdentityProvider, sp: ServiceProvider, handle: dict[str, Any] | None
) -> tuple[str, str] | None:
    """SP-initiated single logout over HTTP-Redirect: the signed LogoutRequest's id (its
    LogoutResponse must answer it) and address, or None where the IdP has no
    SingleLogoutService or the deployment no signing key."""
    if not sp.signs or not handle or not handle.get("name_id"):
        return None
    client = Saml2Client(config=_config(provider, sp))
    entity_id = provider.discovered["entity_id"]
    try:
        services = client.metadata.single_logout_service(entity_id, BINDING_HTTP_REDIRECT, "idpsso")
    except UnsupportedBinding:
        return None  # the IdP offers no single logout over HTTP-Redirect
    if not services:
        return None
    destination = services[0]["location"]
    try:
        request_id, logout_request = client.create_logout_request(
            destination,
            entity_id,
            name_id=NameID(text=handle["name_id"], format=handle.get("format")),
            session_indexes=[handle["session_index"]] if handle.get("session_index") else None,
            sign=False,  # HTTP-Redirect: the signature goes with the query, below
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT, str(logout_request), destination, "", sign=True
        )
    except (SamlException, OSError, ValueError):
        return None
    return str(request_id), str(dict(info["headers"])["Location"])


def logout_succeeded(
    provider: IdentityProvider,
    sp: ServiceProvider,
    binding: str,
    encoded: str,
    *,
    request_id: str | None,
    relay_state: str | None = None,
    sigalg: str | None = None,
    signature: str | None = None,
) -> bool:
    """The IdP's LogoutResponse (over ``binding``): whether it says the session there has
    ended. Only a response signed by a key in the provider's metadata counts (HTTP-POST: the
    XML signature; HTTP-Redirect: the query's, as the SAML profiles require of both), issued by
    the provider, to our single logout address, within the time pysaml2 allows, answering our
    LogoutRequest ``request_id``, with the status Success."""
    if not request_id or not encoded:
        return False
    client = Saml2Client(config=_config(provider, sp))
    config = client.config
    entity_id = provider.discovered["entity_id"]
    try:
        xml = client.unravel(encoded, binding, saml_response.LogoutResponse.msgtype)
        response = saml_response.LogoutResponse(
            client.sec,
            config.endpoint("single_logout_service", binding, "sp"),
            timeslack=config.accepted_time_diff or 0,
        )
        response.require_signature = binding == BINDING_HTTP_POST
        response.loads(xml, False, origxml=xml)
        if binding == BINDING_HTTP_REDIRECT:
            query = {"SAMLResponse": encoded, "SigAlg": sigalg, "Signature": signature}
            if relay_state is not None:
                query["RelayState"] = relay_state
            certs = client.metadata.certs(entity_id, "idpsso", "signing")
            if not (sigalg and signature) or not any(
                verify_redirect_signature(query, client.sec.sec_backend, cert) for _, cert in certs
            ):
                return False
        # Destination, issue instant and status (pysaml2 raises on anything but Success).
        verified = response.verify()
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises a zoo; any failure is "not confirmed"
        _release(exc)
        return False
    return bool(
        verified and response.issuer() == entity_id and response.in_response_to == request_id
    )


# --- IdP-initiated single logout ----------------------------------------------------------------


class LogoutRefused(Exception):
    """pysaml2 refused the LogoutRequest (or the deployment cannot answer one); the reason is for
    the audit event (no personal data)."""


@dataclass
class LogoutRequestSeen:
    """A LogoutRequest whose signature, issuer, destination and issue instant pysaml2 has
    checked: the issuer's entity id and what it names."""

    issuer: str
    name_id: str | None
    session_indexes: list[str]
    relay_state: str
    client: Saml2Client = field(repr=False)
    message: Any = field(repr=False)


def read_logout_request(
    providers: Sequence[IdentityProvider],
    sp: ServiceProvider,
    binding: str,
    encoded: str,
    *,
    relay_state: str | None,
    sigalg: str | None = None,
    signature: str | None = None,
) -> LogoutRequestSeen:
    """Check an IdP's LogoutRequest against the metadata of ``providers`` (the deployment's
    SAML providers). A signature is always required: every bound IdP's metadata has a signing
    certificate (``check_metadata``), so an unsigned request is refused, as is one signed with
    a key that is not the issuer's, one meant for another destination or issued more than a
    day (and ``accepted_time_diff``) away from now."""
    if not sp.signs:
        raise LogoutRefused("no_signing_key")
    if not providers:
        raise LogoutRefused("no_provider")
    client = Saml2Client(config=_config(None, sp, others=providers))
    config = client.config
    try:
        xml = client.unravel(encoded, binding, saml_request.LogoutRequest.msgtype)
        request = saml_request.LogoutRequest(
            client.sec,
            config.endpoint("single_logout_service", binding, "sp"),
            config.attribute_converters,
            timeslack=config.accepted_time_diff or 0,
        ).loads(
            xml,
            binding,
            origdoc=encoded,
            must=True,  # HTTP-Redirect: the query's signature; HTTP-POST: the XML signature
            relay_state=relay_state,
            sigalg=sigalg,
            signature=signature,
        )
        if not request or request.message is None:
            raise LogoutRefused("not_a_request")
        if not request.verify():
            raise LogoutRefused("issue_instant")
    except LogoutRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises a zoo; any failure is a refusal
        reason = type(exc).__name__[:60]
        _release(exc)
        raise LogoutRefused(reason) from None
    message = request.message
    issuer = message.issuer.text if message.issuer is not None else ""
    if not issuer:
        raise LogoutRefused("no_issuer")
    name_id = message.name_id.text if message.name_id is not None else None
    return LogoutRequestSeen(
        issuer=str(issuer),
        name_id=str(name_id) if name_id else None,
        session_indexes=[str(i.text) for i in message.session_index or [] if i.text],
        relay_state=relay_state or "",
        client=client,
        message=message,
    )


def _release(exc: BaseException) -> None:
    """Clear the frames of a pysaml2 failure and its causes: they hold the temporary certificate
    files of the signature check in a reference cycle (the exception and the frame that raised
    it), which the garbage collector would otherwise finalise later, unclosed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


def logout_response_redirect(seen: LogoutRequestSeen, *, ended: bool) -> str | None:
    """The signed LogoutResponse to the IdP's SingleLogoutService over HTTP-Redirect (whatever
    binding the request came by: a POST form to another site is not allowed by our pages' CSP):
    Success when sessions here ended, UnknownPrincipal when the request named none. None where
    the IdP has no such endpoint."""
    client = seen.client
    status = (
        success_status_factory()
        if ended
        else status_message_factory("No session", STATUS_UNKNOWN_PRINCIPAL)
    )
    try:
        destination = client.response_args(seen.message, [BINDING_HTTP_REDIRECT])["destination"]
        response = client.create_logout_response(
            seen.message, [BINDING_HTTP_REDIRECT], status=status, sign=False
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            seen.relay_state,
            response=True,
            sign=True,  # HTTP-Redirect: the signature goes with the query
        )
    except (SamlException, UnsupportedBinding, OSError, ValueError, KeyError):
        return None
    location = str(dict(info["headers"]).get("Location") or "")
    return location if urlsplit(location).scheme in {"https", "http"} else None
