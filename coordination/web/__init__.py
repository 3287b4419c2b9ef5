"""The web floor every package's pages stand on.

``page`` is the wrapper every HTML view runs through; ``hooks`` the per-request plumbing
(user, session limits, headers, locale); ``extensions``, ``converters``, ``registries``,
``forms`` and ``errors`` what the pages share. ``init_app`` sets them up.
"""

from coordination.web.hooks import init_app

__all__ = ["init_app"]
