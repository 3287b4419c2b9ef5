"""What the confirmation page of closing a held case as a duplicate says
(``coordination.web.confirm``), as closing a case does: the two pseudonyms, what the
submitting agency will see, and the day the case will be shredded. The version the queue was
loaded with travels as a hidden field."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from coordination.models import Child
from coordination.web.confirm import Confirmation
from secrecy.records.confirmations import shredding_consequence


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
            shredding_consequence(held),
            _("Ärendet lämnar listan Möjliga dubbletter. Beslutet skrivs i loggen."),
        ],
        action=url_for("duplicates.close", child_id=held.id),
        button=_("Avsluta som dubblett"),
        cancel_url=url_for("duplicates.queue", council_id=held.council_id),
        hidden={"version": version},
    )
