"""API: Möten."""

from __future__ import annotations

from flask import Flask

from coordination.api.core import ApiBlueprint

bp = ApiBlueprint(
    "api_meetings",
    __name__,
    tag="Möten",
    description="Möten per forum och datum, ett möte och dess dagordning.",
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
