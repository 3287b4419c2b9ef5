"""The Swedish labels of the network meeting's codes (the letter, the pages and the API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from meetings.network.models import (
    NetworkKind,
    NetworkPurpose,
    ParticipantRole,
    ParticipantStatus,
)

KIND_LABELS = {
    NetworkKind.CUSTOM_UNDER_18: _l("Custom under 18"),
    NetworkKind.SSPF_NETWORK: _l("SSPF-nätverksmöte"),
    NetworkKind.SIP_LIKE: _l("Samordnat planeringsmöte (SIP-liknande)"),
}
PURPOSE_LABELS = {
    NetworkPurpose.AGREE_PLAN: _l("Att tillsammans göra en plan för stöd och insatser"),
    NetworkPurpose.FOLLOW_UP: _l("Att följa upp det vi kom överens om förra gången"),
    NetworkPurpose.SUPPORT_OFFER: _l("Att berätta om vilket stöd som finns och höra era tankar"),
}
ROLE_LABELS = {
    ParticipantRole.YOUNG_PERSON: _l("Den unge"),
    ParticipantRole.GUARDIAN: _l("Vårdnadshavare"),
    ParticipantRole.RELATIVE: _l("Anhörig"),
    ParticipantRole.SUPPORT_PERSON: _l("Stödperson"),
    ParticipantRole.OTHER: _l("Annan deltagare"),
}
STATUS_LABELS = {
    ParticipantStatus.INVITED: _l("Kallad"),
    ParticipantStatus.PRESENT: _l("Närvarande"),
    ParticipantStatus.ABSENT: _l("Frånvarande"),
}
