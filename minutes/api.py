"""API: Protokoll och åtgärder."""

from __future__ import annotations

from flask import Flask

from coordination.api.core import ApiBlueprint

bp = ApiBlueprint(
    "api_minutes",
    __name__,
    tag="Protokoll och åtgärder",
    description=(
        "Protokollets anteckningar per barn och överenskomna åtgärder: "
        "lista, visa och uppdatera status."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
