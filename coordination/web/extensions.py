"""The Flask extensions every package uses: CSRF, login, translations, rate limits."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask.json.tag import JSONTag, TaggedJSONSerializer
from flask_babel import Babel
from flask_babel.speaklater import LazyString
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import AnonymousUserMixin, LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


login_manager = LoginManager()


babel = Babel()

# Flask-Babel's LazyString declares itself safe HTML (``__html__``), so Jinja would print a lazy
# message unescaped, and with it whatever was interpolated into it (a name, a form value). None
# of our messages carries markup: without ``__html__`` they are escaped like any other string.
# Flask's JSON and its session serializer knew a lazy message only as "HTML": they are taught
# to store it as its text (``use_lazy_text``).
if "__html__" in vars(LazyString):
    del LazyString.__html__


class LazyTextJSONProvider(DefaultJSONProvider):
    """JSON answers: a lazy message is its text in the request's language."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, LazyString):
            return str(o)
        return DefaultJSONProvider.default(o)


class TagLazyText(JSONTag):
    """The session (a flashed message): a lazy message is stored as its text, a plain string
    when read back, escaped when shown."""

    __slots__ = ()
    key = " lz"

    def check(self, value: Any) -> bool:
        return isinstance(value, LazyString)

    def to_json(self, value: Any) -> Any:
        return str(value)

    def to_python(self, value: Any) -> Any:
        return value


def use_lazy_text(app: Flask) -> None:
    app.json = LazyTextJSONProvider(app)
    serializer = getattr(app.session_interface, "serializer", None)
    if isinstance(serializer, TaggedJSONSerializer):
        serializer.register(TagLazyText, force=True, index=0)


limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")


LOCALES = ("sv", "en")


class Anonymous(AnonymousUserMixin):
    roles: frozenset[str] = frozenset()

    def has_role(self, role: object) -> bool:
        return False


login_manager.anonymous_user = Anonymous
