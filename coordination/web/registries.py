"""What upper layers add to ground-floor pages without coordination importing them: columns
loaded with the user, council page sections and panels, administration menu entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Flask,
    current_app,
    g,
)
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from coordination.models import Council, User

UserColumn = Callable[[], ColumnElement[Any]]


def register_user_column(app: Flask, name: str, column: UserColumn) -> None:
    """Upper layers add a value about the logged-in user that every page shows (the header's
    unread count) to the statement that loads the user, instead of a query of their own on
    every page: ``column`` makes an expression correlated with ``User`` (a scalar subquery).
    The page reads it with :func:`user_column`."""
    app.extensions.setdefault("samverkan.user_columns", {})[name] = column


def user_column(name: str) -> Any:
    """A registered value loaded with this request's logged-in user; None when no user was
    loaded from the session (anonymous, or an API call authenticated by token)."""
    values: dict[str, Any] = g.get("samverkan_user_columns", {})
    return values.get(name)


def register_council_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add their pages to the council page's menu without coordination importing
    them: (endpoint taking ``council_id``, label)."""
    app.extensions.setdefault("samverkan.council_sections", []).append((endpoint, label))


CouncilPanel = Callable[[Session, User, Council], str | None]


def register_council_panel(app: Flask, panel: CouncilPanel) -> None:
    """Upper layers add a part to the council page (members only): a function returning HTML
    rendered by the upper layer, or None. The upper layer serves what it owns."""
    app.extensions.setdefault("samverkan.council_panels", []).append(panel)


def council_panels(session: Session, user: User, council: Council) -> list[str]:
    panels: list[CouncilPanel] = current_app.extensions.get("samverkan.council_panels", [])
    return [html for panel in panels if (html := panel(session, user, council))]


def register_admin_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add pages to the administration menu (endpoint without arguments)."""
    app.extensions.setdefault("samverkan.admin_sections", []).append((endpoint, label))


def register_review_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add pages to the log review's menu (endpoint without arguments; the page
    checks the reviewer's permission itself)."""
    app.extensions.setdefault("samverkan.review_sections", []).append((endpoint, label))
