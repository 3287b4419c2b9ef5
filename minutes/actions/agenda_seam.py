"""The seam into the agenda: children with open agreed actions come back on the next meeting's
agenda (and so in its workspace) by themselves. Meetings cannot import minutes, so minutes
registers a contributor with the meetings package."""

from __future__ import annotations

from flask import Flask

from meetings.agenda import register_agenda_contributor
from minutes.actions.services import children_with_open_actions


def init_app(app: Flask) -> None:
    register_agenda_contributor(app, children_with_open_actions)
