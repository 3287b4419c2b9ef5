"""Which API tokens a user may manage: their own. Another user's token is refused like an
unknown one (403, logged by the page wrapper)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import User
from coordination.tokens.services import ApiToken


def token_for(session: Session, actor: User, token_id: int) -> ApiToken:
    token = get_or_not_found(session, ApiToken, token_id, "api_token")
    if token.user_id != actor.id:
        raise PermissionDenied(object_type="api_token", object_ids=[token_id])
    return token
