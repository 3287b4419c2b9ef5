"""What the confirmation page of revoking a disclosure says (``coordination.web.confirm``): the
recipient agency, the record's category, the date and basis of the decision and the pseudonym,
never the record's content. The reason travels as a hidden fixed code."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from coordination.web.confirm import Confirmation
from coordination.web.page import page_locale
from secrecy.models import Disclosure, DisclosureEndReason
from secrecy.policy.categories import categories
from secrecy.policy.rules import legal_bases


def revoke_confirmation(disclosure: Disclosure, reason: DisclosureEndReason) -> Confirmation:
    record = disclosure.record
    category = categories().get(record.category)
    basis = legal_bases().get(disclosure.basis_id)
    back = url_for("secrecy.child", child_id=record.child_id) + "#records"
    return Confirmation(
        title=_("Återkalla utlämnandet"),
        lead=_(
            "Du återkallar utlämnandet till %(agency)s av uppgiften i kategorin %(category)s "
            "om %(pseudonym)s, beslutat %(date)s med stöd av %(reference)s.",
            agency=disclosure.recipient_agency.name,
            category=category.label(page_locale()) if category else record.category,
            pseudonym=record.child.pseudonym,
            date=disclosure.decided_at.date().isoformat(),
            reference=basis.reference if basis else disclosure.basis_id,
        ),
        consequences=[
            _(
                "%(agency)s ser inte längre uppgiften. Mottagarens nyckel till uppgiften "
                "raderas direkt.",
                agency=disclosure.recipient_agency.name,
            ),
            _("Beslutet och återkallandet finns kvar i historiken och i loggen."),
            _(
                "Återkallandet kan inte ångras. Ska mottagaren se uppgiften igen krävs ett nytt "
                "beslut om utlämnande."
            ),
        ],
        action=url_for("disclosures.revoke", disclosure_id=disclosure.id),
        button=_("Återkalla utlämnandet"),
        cancel_url=back,
        hidden={"reason": reason.value},
    )
