"""What the confirmation page of closing a held case as a duplicate says
(``coordination.web.confirm``), as closing a case does: the two pseudonyms, what the
submitting agency will see, and the day the case will be shredded. The version the queue was
loaded with travels as a hidden field."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from coordination.db import today_local
from coordination.models import Child
from coordination.web.confirm import Confirmation
from secrecy.retention import retention_due_on


def close_confirmation(held: Child, holder: Child, version: int) -> Confirmation:
    return Confirmation(
        title=_("Avsluta som dubblett"),
        lead=_(
            "Du avslutar ärendet %(held)s som dubblett av %(holder)s.",
            held=held.pseudonym,
            holder=holder.pseudonym,
        ),
        consequences=[
            _(
                "Ärendet avslutas med skälet ”Dubblett i forumet”. Myndigheten som skrev in "
                "det ser skälet på sitt ärende, men inte vilket ärende det är en dubblett av."
            ),
            _(
                "Ärendets uppgifter gallras (förstörs) %(date)s, %(months)s månader efter "
                "avslutet, om ärendet inte öppnas igen före dess.",
                date=retention_due_on(today_local(), held.council.retention_months).isoformat(),
                months=held.council.retention_months,
            ),
            _("Ärendet lämnar listan Möjliga dubbletter. Beslutet skrivs i loggen."),
        ],
        action=url_for("duplicates.close", child_id=held.id),
        button=_("Avsluta som dubblett"),
        cancel_url=url_for("duplicates.queue", council_id=held.council_id),
        hidden={"version": version},
    )
