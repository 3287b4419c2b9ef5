"""API: Barn, uppgifter och utlämnanden."""

from __future__ import annotations

from flask import Flask

from coordination.api.core import ApiBlueprint

bp = ApiBlueprint(
    "api_secrecy",
    __name__,
    tag="Barn, uppgifter och utlämnanden",
    description=(
        "Barnen i ett forum, deras uppgifter (visade eller undanhållna), samtycken och "
        "beslut om uppgiftslämnande."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
