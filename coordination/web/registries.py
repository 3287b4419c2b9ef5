"""What upper layers add to ground-floor pages without coordination importing them: columns
loaded with the user, council page sections and panels, administration menu entries.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Flask,
    current_app,
    g,
)
from sqlalchemy.orm import Session

from coordination.models import Child, Council, User
from coordination.registry import (
    ADMIN_SECTIONS,
    CHILD_PANELS,
    COUNCIL_PANELS,
    COUNCIL_SECTIONS,
    REVIEW_SECTIONS,
    USER_COLUMNS,
    ChildPanel,
    CouncilPanel,
    UserColumn,
)


def register_user_column(app: Flask, name: str, column: UserColumn) -> None:
    """Upper layers add a value about the logged-in user that every page shows (the header's
    unread count) to the statement that loads the user, instead of a query of their own on
    every page: ``column`` makes an expression correlated with ``User`` (a scalar subquery).
    The page reads it with :func:`user_column`."""
    USER_COLUMNS.add(app, (name, column))


def user_column(name: str) -> Any:
    """A registered value loaded with this request's logged-in user; None when no user was
    loaded from the session (anonymous, or an API call authenticated by token)."""
    values: dict[str, Any] = g.get("samverkan_user_columns", {})
    return values.get(name)


def register_council_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add their pages to the council page's menu without coordination importing
    them: (endpoint taking ``council_id``, label)."""
    COUNCIL_SECTIONS.add(app, (endpoint, label))


def register_council_panel(app: Flask, panel: CouncilPanel) -> None:
    """Upper layers add a part to the council page (members only): a function returning HTML
    rendered by the upper layer, or None. The upper layer serves what it owns."""
    COUNCIL_PANELS.add(app, panel)


def council_panels(session: Session, user: User, council: Council) -> list[str]:
    panels = COUNCIL_PANELS.of(current_app)
    return [html for panel in panels if (html := panel(session, user, council))]


def register_child_panel(app: Flask, panel: ChildPanel) -> None:
    """Upper layers add a part to the child page (the council's members, after the page's own
    access check): a function returning HTML rendered by the upper layer, or None. Whatever it
    shows of sealed content it opens through ``secrecy.records.reveal`` itself."""
    CHILD_PANELS.add(app, panel)


def child_panels(session: Session, user: User, child: Child) -> list[str]:
    return [html for panel in CHILD_PANELS.of(current_app) if (html := panel(session, user, child))]


def register_admin_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add pages to the administration menu (endpoint without arguments)."""
    ADMIN_SECTIONS.add(app, (endpoint, label))


def register_review_section(app: Flask, endpoint: str, label: Any) -> None:
    """Upper layers add pages to the log review's menu (endpoint without arguments; the page
    checks the reviewer's permission itself)."""
    REVIEW_SECTIONS.add(app, (endpoint, label))
