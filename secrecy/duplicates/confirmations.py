"""What the confirmation pages of the coordinator's two decisions on a held case say
(``coordination.web.confirm``; neither can be undone from the queue). Closing as a duplicate,
as closing a case does: the two pseudonyms, what the submitting agency will see, and the day
the case will be shredded. Keeping it as a case of its own: that it leaves the queue for good
and stays the submitting agency's case. The version the queue was loaded with travels as a
hidden field."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from coordination.models import Child
from coordination.web.confirm import Confirmation
from secrecy.records.confirmations import shredding_consequence


def close_confirmation(held: Child, holder: Child, version: int) -> Confirmation:
    return _decision(
        held,
        version,
        "duplicates.close",
        _("Avsluta som dubblett"),
        _(
            "Du avslutar ärendet %(held)s som dubblett av %(holder)s.",
            held=held.pseudonym,
            holder=holder.pseudonym,
        ),
        [
            _(
                "Ärendet avslutas med skälet ”Dubblett i forumet”. Myndigheten som skrev in "
                "det ser skälet på sitt ärende, men inte vilket ärende det är en dubblett av."
            ),
            shredding_consequence(held),
            _("Ärendet lämnar listan Möjliga dubbletter. Beslutet skrivs i loggen."),
        ],
    )


def keep_confirmation(held: Child, holder: Child, version: int) -> Confirmation:
    return _decision(
        held,
        version,
        "duplicates.keep",
        _("Behåll som eget ärende"),
        _(
            "Du behåller ärendet %(held)s som ett eget ärende, skilt från %(holder)s.",
            held=held.pseudonym,
            holder=holder.pseudonym,
        ),
        [
            _(
                "Ärendet fortsätter som vanligt hos myndigheten som skrev in det. Skriver "
                "myndigheten in samma personnummer igen får den veta att ärendet redan finns."
            ),
            _(
                "Ärendet lämnar listan Möjliga dubbletter och kan inte längre avslutas som "
                "dubblett där. Beslutet skrivs i loggen."
            ),
        ],
    )


def _decision(
    held: Child, version: int, endpoint: str, title: str, lead: str, consequences: list[str]
) -> Confirmation:
    """A decision's page: its button says what the title says; cancelling goes back to the
    queue."""
    return Confirmation(
        title=title,
        lead=lead,
        consequences=consequences,
        action=url_for(endpoint, child_id=held.id),
        button=title,
        cancel_url=url_for("duplicates.queue", council_id=held.council_id),
        hidden={"version": version},
    )
