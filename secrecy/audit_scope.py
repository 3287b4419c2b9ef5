"""What an agency's log reviewer sees of secrecy's events beyond their own users' events.

Coordination's log review shows an auditor the events of their agency's users. Views and
disclosures of the records their agency owns belong there too, whoever made them; coordination
cannot join to records (it must not import secrecy), so this module registers the condition,
and the Swedish labels of secrecy's event tags.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from coordination.audit.log import AuditEvent, AuditEventObject
from coordination.logreview.scopes import register_audit_scope, register_tag_labels
from secrecy.models import Record
from secrecy.tags import SecrecyTag

# Events about records that the owner agency's reviewer sees, whoever acted.
OWNER_REVIEWED_TAGS = (SecrecyTag.RECORD_REVEAL.value,)
DISCLOSURE_TAG_PREFIX = "secrecy:disclosure:"

# Keyed by the stored strings; a tag without a label here is listed under its own name.
TAG_LABELS = {
    "secrecy:child:enrol": _l("Barn inskrivet"),
    "secrecy:child:duplicate_refused": _l("Dubbel inskrivning nekad"),
    "secrecy:child:duplicate_held": _l("Möjlig dubblett väntar på samordnaren"),
    "secrecy:child:duplicate_closed": _l("Möjlig dubblett avslutad som dubblett"),
    "secrecy:child:duplicate_kept": _l("Möjlig dubblett behållen som eget ärende"),
    "secrecy:child:duplicate_released": _l("Möjlig dubblett löst av ändrat personnummer"),
    "secrecy:child:close": _l("Ärende avslutat"),
    "secrecy:child:reopen": _l("Ärende återöppnat"),
    "secrecy:record:create": _l("Uppgift registrerad"),
    "secrecy:record:correct": _l("Uppgift rättad"),
    "secrecy:record:reveal": _l("Uppgifter visade"),
    "secrecy:extract:export": _l("Registerutdrag"),
    "secrecy:keys:rotate_master": _l("Huvudnyckel roterad"),
    "secrecy:keys:rotate_agency": _l("Myndighetsnyckel roterad"),
    "secrecy:keys:check": _l("Nyckelkontroll"),
    "secrecy:retention:shred": _l("Gallring"),
    "secrecy:disclosure:decide": _l("Uppgiftslämning beslutad"),
    "secrecy:disclosure:revoke": _l("Uppgiftslämning återkallad"),
    "secrecy:disclosure:lapse": _l("Uppgiftslämning upphört"),
    "secrecy:consent:register": _l("Samtycke registrerat"),
    "secrecy:consent:revoke": _l("Samtycke återkallat"),
    "secrecy:request:create": _l("Begäran om uppgifter"),
    "secrecy:request:answer": _l("Begäran om uppgifter besvarad med utlämnande"),
    "secrecy:request:close": _l("Begäran om uppgifter avslutad"),
    "secrecy:request:overdue": _l("Begäran om uppgifter försenad"),
    "secrecy:age_range:set": _l("Forumets målgruppsålder ändrad"),
    "secrecy:age_exception:record": _l("Avsteg från målgruppsålder registrerat"),
    "secrecy:age_exception:review_due": _l("Avsteg från målgruppsålder ska omprövas"),
    "secrecy:age_threshold:notify": _l("Åldersgräns närmar sig, myndighet underrättad"),
}


def events_about_agency_records(session: Session, agency_id: int) -> ColumnElement[bool]:
    """Views and disclosures whose objects include a record the agency owns."""
    owned = (
        select(AuditEventObject.seq)
        .join(Record, Record.id == AuditEventObject.object_id)
        .where(AuditEventObject.object_type == "record", Record.owner_agency_id == agency_id)
    )
    return and_(
        or_(
            AuditEvent.tag.in_(OWNER_REVIEWED_TAGS),
            AuditEvent.tag.startswith(DISCLOSURE_TAG_PREFIX, autoescape=True),
        ),
        AuditEvent.seq.in_(owned),
    )


def init_app(app: Flask) -> None:
    register_audit_scope(app, events_about_agency_records)
    register_tag_labels(app, {**{tag.value: tag.value for tag in SecrecyTag}, **TAG_LABELS})
