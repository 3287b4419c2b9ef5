"""A small SAML 2.0 identity provider for the tests, built on pysaml2's IdP (``saml2.server``),
run as its own process on loopback with a key and certificate made when it starts.

    python -m tests.coordination.providers.saml_idp <port> <sp_entity_id> <sp_acs_url> \
        [<sp_cert_file> <sp_slo_url>]

It takes AuthnRequests over HTTP-Redirect and answers over HTTP-POST with a signed assertion:
the persistent NameID, displayName and mail, and the AuthnContextClassRef chosen on its log-in
page. Given the service provider's certificate and single logout address, it takes signed
LogoutRequests over HTTP-Redirect (``GET /test/logouts`` lists them) and answers them with a
signed LogoutResponse over HTTP-Redirect, or as ``POST /test/mode`` asks (``logout_response``:
over HTTP-POST, unsigned, signed by another key or by another IdP).
``POST /test/mode`` makes it misbehave: an unsigned assertion, another issuer, a signature by a
key the metadata does not name.

IdP-initiated single logout: ``POST /test/logout-request`` makes a LogoutRequest to the service
provider (HTTP-Redirect: the address to send the browser to; HTTP-POST: the form's fields),
signed by this IdP, unsigned, signed by a key the metadata does not name, or from another IdP
the service provider does not know. The service provider's LogoutResponse arrives at
``/slo/redirect`` and is listed, with its status and whether its signature verified.
"""

from __future__ import annotations

import base64
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template_string, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import logout_response_from_string
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary, verify_redirect_signature

from tests.coordination.providers.running import (
    LOA2,
    LOA3,
    LOGIN_PAGE,
    add_test_controls,
    make_key_and_cert,
)


def sp_metadata(
    entity_id: str, acs_url: str, cert_file: str | None = None, slo_url: str | None = None
) -> str:
    endpoints: dict[str, Any] = {"assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)]}
    settings: dict[str, Any] = {"entityid": entity_id, "xmlsec_binary": get_xmlsec_binary()}
    if cert_file and slo_url:
        endpoints["single_logout_service"] = [
            (slo_url, BINDING_HTTP_REDIRECT),
            (slo_url, BINDING_HTTP_POST),
        ]
        settings["cert_file"] = cert_file
    settings["service"] = {"sp": {"endpoints": endpoints}}
    config = SPConfig()
    config.load(settings)
    return str(create_metadata_string(None, config=config, sign=False).decode())


def create_idp(
    port: int,
    sp_entity_id: str,
    sp_acs_url: str,
    folder: Path,
    sp_cert_file: str | None = None,
    sp_slo_url: str | None = None,
) -> Flask:
    app = Flask(__name__)
    base = f"http://127.0.0.1:{port}"
    key_file, cert_file = make_key_and_cert(folder, "idp")
    other_key, other_cert = make_key_and_cert(folder, "other")

    def config(key: str, cert: str, entity_id: str | None = None) -> IdPConfig:
        idp_config = IdPConfig()
        idp_config.load(
            {
                "entityid": entity_id or f"{base}/metadata",
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{base}/sso/redirect", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{base}/slo/redirect", BINDING_HTTP_REDIRECT)
                            ],
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {"default": {"lifetime": {"minutes": 5}}},
                    }
                },
                "key_file": key,
                "cert_file": cert,
                "metadata": {
                    "inline": [sp_metadata(sp_entity_id, sp_acs_url, sp_cert_file, sp_slo_url)]
                },
                "xmlsec_binary": get_xmlsec_binary(),
            }
        )
        return idp_config

    server = Server(config=config(key_file, cert_file))
    impostor = Server(config=config(other_key, other_cert))
    stranger = Server(config=config(other_key, other_cert, f"{base}/stranger"))
    responses: list[dict[str, Any]] = []
    pending: dict[str, Any] = {}
    mode: dict[str, Any] = {}
    logouts: list[dict[str, Any]] = []

    @app.get("/metadata")
    def metadata() -> Any:
        xml = create_metadata_string(None, config=server.config, sign=False)
        return xml, 200, {"Content-Type": "application/samlmetadata+xml"}

    @app.get("/sso/redirect")
    def sso() -> Any:
        parsed = server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        authn = parsed.message
        chosen = LOA2
        context = authn.requested_authn_context
        if context is not None and context.authn_context_class_ref:
            chosen = context.authn_context_class_ref[0].text
        key = authn.id
        pending[key] = {
            "id": authn.id,
            "acs": authn.assertion_consumer_service_url or sp_acs_url,
            "sp": authn.issuer.text,
            "relay_state": request.args.get("RelayState", ""),
        }
        return render_template_string(
            LOGIN_PAGE,
            title="SAML-testleverantör",
            heading="SAML-testleverantörens inloggning",
            action="/sso/login",
            key=key,
            acrs=[LOA2, LOA3],
            chosen=chosen,
        )

    @app.post("/sso/login")
    def login() -> Any:
        request_info = pending.pop(request.form["key"])
        signer = impostor if mode.get("bad_signature") else server
        response = signer.create_authn_response(
            identity={"displayName": [request.form["name"]], "mail": [request.form["email"]]},
            in_response_to=request_info["id"],
            destination=request_info["acs"],
            sp_entity_id=request_info["sp"],
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=request.form["sub"]),
            authn={"class_ref": request.form["acr"], "authn_auth": base},
            issuer=f"{base}/other" if mode.get("wrong_issuer") else None,
            sign_assertion=not mode.get("unsigned"),
            sign_response=False,
        )
        http = signer.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            request_info["acs"],
            request_info["relay_state"],
            response=True,
        )
        return http["data"]

    @app.get("/slo/redirect")
    def slo() -> Any:
        if "SAMLResponse" in request.args:
            return logout_response()
        parsed = server.parse_logout_request(
            request.args["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=request.args.get("RelayState"),
            sigalg=request.args.get("SigAlg"),
            signature=request.args.get("Signature"),
        )
        message = parsed.message
        logouts.append(
            {
                "name_id": message.name_id.text if message.name_id is not None else None,
                "session_index": [i.text for i in message.session_index or []],
                "signed": bool(request.args.get("Signature")),
                "issuer": message.issuer.text,
            }
        )
        # The answer as ``POST /test/mode`` with ``logout_response`` asks: over HTTP-Redirect
        # (the default) or HTTP-POST, signed by this IdP, unsigned, by a key the metadata does not
        # name ("impostor") or by an IdP the service provider does not know ("stranger").
        wanted = mode.get("logout_response") or {}
        signers = {"impostor": impostor, "stranger": stranger}
        signer = signers.get(str(wanted.get("signer")), server)
        sign = not wanted.get("unsigned")
        binding = BINDING_HTTP_POST if wanted.get("binding") == "post" else BINDING_HTTP_REDIRECT
        response = signer.create_logout_response(
            message, [binding], sign=sign and binding == BINDING_HTTP_POST
        )
        http = signer.apply_binding(
            binding,
            str(response),
            sp_slo_url or "",
            request.args.get("RelayState", ""),
            response=True,
            sign=sign and binding == BINDING_HTTP_REDIRECT,
        )
        if binding == BINDING_HTTP_POST:
            return http["data"]  # the form the browser posts to the service provider
        return "", 302, {"Location": dict(http["headers"])["Location"]}

    def logout_response() -> Any:
        """The service provider's answer to an IdP-initiated LogoutRequest."""
        # The status as sent (pysaml2's parser raises on anything but Success); the signature
        # is checked below, over the query as the Redirect binding signs it.
        parsed = logout_response_from_string(
            server.unravel(request.args["SAMLResponse"], BINDING_HTTP_REDIRECT, "LogoutResponse")
        )
        message = {
            "SAMLResponse": request.args["SAMLResponse"],
            "RelayState": request.args.get("RelayState"),
            "SigAlg": request.args.get("SigAlg"),
            "Signature": request.args.get("Signature"),
        }
        if message["RelayState"] is None:
            del message["RelayState"]
        certs = server.metadata.certs(sp_entity_id, "spsso", "signing")
        verified = bool(message["Signature"]) and any(
            verify_redirect_signature(message, server.sec.sec_backend, cert) for _, cert in certs
        )
        responses.append(
            {
                "status": parsed.status.status_code.value,
                "second_status": (
                    parsed.status.status_code.status_code.value
                    if parsed.status.status_code.status_code is not None
                    else None
                ),
                "in_response_to": parsed.in_response_to,
                "issuer": parsed.issuer.text,
                "verified": verified,
                "relay_state": request.args.get("RelayState"),
            }
        )
        return "Utloggad"

    @app.post("/test/logout-request")
    def make_logout_request() -> Any:
        wanted = request.get_json(force=True)
        sender = {"impostor": impostor, "stranger": stranger}.get(wanted.get("signer"), server)
        binding = BINDING_HTTP_POST if wanted.get("binding") == "post" else BINDING_HTTP_REDIRECT
        destination = wanted.get("destination") or sp_slo_url or ""
        sign = not wanted.get("unsigned")
        request_id, logout_request = sender.create_logout_request(
            destination,
            sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=wanted["name_id"]),
            session_indexes=wanted.get("session_indexes"),
            sign=sign and binding == BINDING_HTTP_POST,
        )
        relay_state = wanted.get("relay_state", "idp-logout")
        if binding == BINDING_HTTP_POST:
            return jsonify(
                id=request_id,
                url=destination,
                SAMLRequest=base64.b64encode(str(logout_request).encode()).decode(),
                RelayState=relay_state,
            )
        http = sender.apply_binding(
            BINDING_HTTP_REDIRECT, str(logout_request), destination, relay_state, sign=sign
        )
        return jsonify(id=request_id, url=dict(http["headers"])["Location"])

    @app.get("/test/responses")
    def list_responses() -> Any:
        return jsonify(responses)

    add_test_controls(app, mode, logouts)

    return app


if __name__ == "__main__":
    port, sp_entity_id, sp_acs_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sp_cert, sp_slo = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else (None, None)
    with tempfile.TemporaryDirectory() as keys:
        create_idp(port, sp_entity_id, sp_acs_url, Path(keys), sp_cert, sp_slo).run(
            host="127.0.0.1", port=port, threaded=True
        )
