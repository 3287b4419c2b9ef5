"""API: Logg."""

from __future__ import annotations

from flask import Flask

from coordination.api.core import ApiBlueprint

bp = ApiBlueprint(
    "api_audit",
    __name__,
    tag="Logg",
    description="Logghändelser och kontroll av loggkedjan (endast logggranskare).",
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
