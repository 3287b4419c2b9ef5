"""The Flask extensions every package uses: CSRF, login, translations, rate limits."""

from __future__ import annotations

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
if "__html__" in vars(LazyString):
    del LazyString.__html__


limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")


LOCALES = ("sv", "en")


class Anonymous(AnonymousUserMixin):
    roles: frozenset[str] = frozenset()

    def has_role(self, role: object) -> bool:
        return False


login_manager.anonymous_user = Anonymous
