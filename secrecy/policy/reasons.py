"""Swedish explanations of the policy engine's answers ("ingen uppgiftslämning",
"samtycket återkallat 2026-03-02", "den unge har fyllt 21")."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from coordination.models import AgencyKind
from coordination.web.forms import AGENCY_KIND_LABELS
from secrecy.policy.categories import categories
from secrecy.policy.engine import Reason, Refusal, Signer

SIGNER_LABELS = {
    Signer.GUARDIAN_1: _l("vårdnadshavare 1"),
    Signer.GUARDIAN_2: _l("vårdnadshavare 2"),
    Signer.YOUNG_PERSON: _l("den unge själv"),
}


def _kind(value: object) -> str:
    try:
        return str(AGENCY_KIND_LABELS[AgencyKind(str(value))]).lower()
    except ValueError:
        return str(value)


def _category(value: object) -> str:
    found = categories().get(str(value))
    return found.sv.lower() if found else str(value)


def explain(reason: Reason) -> str:
    """One reason as a Swedish sentence (English when the user has chosen English)."""
    p = reason.params
    code = reason.code
    if code is Refusal.RECIPIENT_IS_OWNER:
        return _("Mottagaren är den myndighet som äger uppgiften.")
    if code is Refusal.RULE_DISABLED:
        return _("Regeln är avstängd.")
    if code is Refusal.RULE_NOT_YET_IN_FORCE:
        return _("Regeln gäller först från %(date)s.", date=p["date"])
    if code is Refusal.RULE_ENDED:
        return _("Regeln upphörde att gälla %(date)s.", date=p["date"])
    if code is Refusal.WRONG_OWNER_KIND:
        return _("Regeln gäller inte uppgifter från %(kind)s.", kind=_kind(p["kind"]))
    if code is Refusal.OWNER_NOT_PUBLIC:
        return _("Skyldigheten gäller bara offentliga verksamheter, inte enskilda eller ideella.")
    if code is Refusal.WRONG_RECIPIENT_KIND:
        return _("Regeln gäller inte uppgiftslämnande till %(kind)s.", kind=_kind(p["kind"]))
    if code is Refusal.SAME_KIND:
        return _("Regeln gäller bara mellan olika slags verksamheter.")
    if code is Refusal.EXCLUDED_OWNER:
        return _("Regeln får aldrig användas för uppgifter från %(kind)s.", kind=_kind(p["kind"]))
    if code is Refusal.CATEGORY_DENIED:
        return _("Regeln får inte användas för %(category)s.", category=_category(p["category"]))
    if code is Refusal.CATEGORY_NOT_ALLOWED:
        return _("Regeln gäller inte %(category)s.", category=_category(p["category"]))
    if code is Refusal.WEAK_RECIPIENT:
        return _("Mottagarens eget sekretesskydd är svagt; uppgifter lämnas dit bara med samtycke.")
    if code is Refusal.AGE_UNKNOWN:
        return _("Barnets ålder är okänd.")
    if code is Refusal.AGE_LIMIT:
        return _("Den unge har fyllt %(age)s år.", age=p["age"])
    if code is Refusal.NO_CONSENT:
        return _("Det finns inget samtycke registrerat.")
    if code is Refusal.CONSENT_INCOMPLETE:
        signer = SIGNER_LABELS.get(Signer(str(p["signer"])), p["signer"])
        return _("Samtycket saknar underskrift av %(signer)s.", signer=signer)
    if code is Refusal.CONSENT_NOT_YET_VALID:
        return _("Samtycket gäller först från %(date)s.", date=p["date"])
    if code is Refusal.CONSENT_EXPIRED:
        return _("Samtycket gällde till %(date)s.", date=p["date"])
    if code is Refusal.CONSENT_REVOKED:
        return _("Samtycket återkallades %(date)s.", date=p["date"])
    if code is Refusal.CONSENT_AGENCY:
        return _("Samtycket omfattar inte mottagaren.")
    if code is Refusal.CONSENT_CATEGORY:
        return _("Samtycket omfattar inte %(category)s.", category=_category(p["category"]))
    if code is Refusal.SAME_AUTHORITY:
        return _(
            "Mottagaren hör till samma myndighet och är inte en självständig verksamhetsgren: "
            "det är inte ett utlämnande, använd grunden inom samma myndighet."
        )
    if code is Refusal.OTHER_AUTHORITY:
        return _("Grunden gäller bara inom samma myndighet.")
    if code is Refusal.STATEMENT_MISSING:
        return _("Grunden kräver en skriftlig redogörelse för behovet.")
    if code is Refusal.ENDED:
        return _("Uppgiftslämningen har upphört.")
    return _("Grunden %(basis)s finns inte längre i regelverket.", basis=p.get("basis", "?"))
