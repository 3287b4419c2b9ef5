"""A small OpenID provider for the tests, built from Authlib's server parts (authorization code
with PKCE and the OpenID Connect extension), run as its own process on loopback.

    python -m tests.coordination.providers.oidc_provider <port> <client_id> <client_secret>

Its log-in page asks for the subject, name, e-mail and assurance level (acr) to sign in as, so
a browser test fills it like a real provider's. ``POST /test/mode`` makes it misbehave the way
the bad-input tests need: a wrong issuer, a signature by another key, another nonce, an expired
token. Keys are made when it starts; nothing is written to disk.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, redirect, render_template_string, request
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.coordination.providers.running import LOA2, LOA3, LOGIN_PAGE, add_test_controls

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http, tests only


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = {"openid", "profile", "email"}
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return urlsplit(redirect_uri).hostname in {"localhost", "127.0.0.1"}

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    acr: str
    user: dict[str, str]
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str] | None:
        return None

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > 300


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def create_provider(port: int, client_id: str, client_secret: str) -> Flask:
    app = Flask(__name__)
    issuer = f"http://127.0.0.1:{port}"
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
    other_key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
    clients = {client_id: Client(client_id, client_secret)}
    codes: dict[str, AuthorizationCode] = {}
    mode: dict[str, Any] = {}
    logouts: list[dict[str, str]] = []
    sessions: list[dict[str, str]] = []

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            user = request.user
            codes[code] = AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope,
                nonce=request.payload.data.get("nonce"),
                acr=user["acr"],
                user=user,
                code_challenge=request.payload.data.get("code_challenge"),
                code_challenge_method=request.payload.data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            found = codes.get(code)
            if found and found.client_id == client.client_id and not found.is_expired():
                return found
            return None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> dict[str, str]:
            return authorization_code.user

    class OpenID(OpenIDCode):
        def exists_nonce(self, nonce: str, request: Any) -> bool:
            return any(c.nonce == nonce for c in codes.values())

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return other_key if mode.get("bad_signature") else key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            now = int(time.time())
            claims: dict[str, Any] = {
                "iss": issuer + "/other" if mode.get("wrong_issuer") else issuer,
                "aud": [client.get_client_id()],
                "iat": now,
                "exp": now + 300,
            }
            if mode.get("expired"):
                claims.update(iat=now - 3600, exp=now - 1800, auth_time=now - 3600)
            return claims

        def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
            claims = super().get_authorization_code_claims(authorization_code)
            # The provider's session of this log-in, named again in a back-channel logout.
            claims["sid"] = "sid-" + authorization_code.code[:16]
            sessions.append({"sub": authorization_code.user["sub"], "sid": claims["sid"]})
            if mode.get("bad_nonce"):
                claims["nonce"] = "changed-" + secrets.token_hex(4)
            if mode.get("expired"):
                claims["auth_time"] = int(time.time()) - 3600
            return claims

        def generate_user_info(self, user: dict[str, str], scope: str) -> UserInfo:
            return UserInfo(sub=user["sub"], name=user["name"], email=user["email"])

    def save_token(token: dict[str, Any], request: Any) -> None:
        return None

    server = AuthorizationServer(app, query_client=clients.get, save_token=save_token)
    server.register_grant(CodeGrant, [OpenID(require_nonce=True), CodeChallenge(required=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=mode.get("discovery_issuer") or issuer,
            authorization_endpoint=issuer + "/authorize",
            token_endpoint=issuer + "/token",
            jwks_uri=issuer + "/jwks",
            backchannel_logout_supported=True,
            backchannel_logout_session_supported=True,
            end_session_endpoint=issuer + "/logout",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            acr_values_supported=[LOA2, LOA3],
            scopes_supported=["openid", "profile", "email"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[key.as_dict(private=False)])

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.method == "GET":
            grant = server.get_consent_grant(end_user=None)
            requested = (grant.request.payload.data.get("acr_values") or LOA2).split()[0]
            return render_template_string(
                LOGIN_PAGE,
                title="Testleverantör",
                heading="Testleverantörens inloggning",
                acrs=[LOA2, LOA3],
                chosen=requested,
            )
        user = {
            "sub": request.form["sub"],
            "name": request.form.get("name", ""),
            "email": request.form.get("email", ""),
            "acr": request.form.get("acr", LOA2),
        }
        return server.create_authorization_response(grant_user=user)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    @app.get("/logout")
    def logout() -> Any:
        logouts.append(dict(request.args))
        target = request.args.get("post_logout_redirect_uri")
        if target and urlsplit(target).hostname in {"localhost", "127.0.0.1"}:
            state = request.args.get("state")
            return redirect(target + (f"?state={state}" if state else ""))
        return "Utloggad hos testleverantören"

    add_test_controls(app, mode, logouts)

    @app.get("/test/sessions")
    def list_sessions() -> Any:
        return jsonify(sessions)

    @app.post("/test/logout-token")
    def make_logout_token() -> Any:
        """A back-channel logout token as this provider sends it (or spoiled, as asked)."""
        wanted = request.get_json(force=True) or {}
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer + "/other" if wanted.get("wrong_issuer") else issuer,
            "aud": wanted.get("aud") or [client_id],
            "iat": now - int(wanted.get("age", 0)),
            "exp": now + 120,
            "jti": wanted.get("jti") or secrets.token_hex(8),
            "events": {} if wanted.get("no_event") else {BACKCHANNEL_EVENT: {}},
        }
        if wanted.get("no_jti"):
            del claims["jti"]
        for name in ("sub", "sid", "nonce"):
            if wanted.get(name):
                claims[name] = wanted[name]
        signer = other_key if wanted.get("bad_signature") else key
        header = {"alg": "RS256", "kid": "test-key", "typ": "logout+jwt"}
        return jsonify(logout_token=jwt.encode(header, claims, signer))

    return app


if __name__ == "__main__":
    port, client_id, client_secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    create_provider(port, client_id, client_secret).run(host="127.0.0.1", port=port, threaded=True)
