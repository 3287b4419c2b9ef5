"""What the confirmation page of closing a case says (``coordination.web.confirm``): the
pseudonym, the reason and the day the case will be shredded; the reason travels as a hidden
fixed code."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from coordination.db import today_local
from coordination.models import Child
from coordination.web.confirm import Confirmation
from secrecy.retention import retention_due_on


def close_confirmation(child: Child, reason: str, reason_label: str) -> Confirmation:
    back = url_for("secrecy.child", child_id=child.id)
    return Confirmation(
        title=_("Avsluta ärendet"),
        lead=_(
            "Du avslutar ärendet %(pseudonym)s med skälet: %(reason)s.",
            pseudonym=child.pseudonym,
            reason=reason_label,
        ),
        consequences=[
            _(
                "Barnet kan inte längre sättas på forumets dagordningar, och inga nya "
                "uppgifter kan skrivas i ärendet."
            ),
            shredding_consequence(child),
            _(
                "Avslutet skrivs i loggen. Ärendet kan öppnas igen, men avslutet finns kvar i "
                "historiken."
            ),
        ],
        action=url_for("secrecy.close", child_id=child.id),
        button=_("Avsluta ärendet"),
        cancel_url=back,
        hidden={"reason": reason},
    )


def shredding_consequence(child: Child) -> str:
    """The day a case closed today will be shredded, for the confirmation of every close."""
    months = child.council.retention_months
    return _(
        "Ärendets uppgifter gallras (förstörs) %(date)s, %(months)s månader efter "
        "avslutet, om ärendet inte öppnas igen före dess.",
        date=retention_due_on(today_local(), months).isoformat(),
        months=months,
    )
