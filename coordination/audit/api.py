"""API: the audit log for an agency's log reviewer (logggranskare), and a check of its chain.

The same scope and services as the log review pages (``coordination.logreview.views``): an
auditor sees their own agency's users' events plus what upper layers register (views and
disclosures of the agency's records). A child is named by id and resolved only within the
councils the auditor's agency takes part in, like the page resolves a pseudonym.

The page logs a CSV export, not a look at the list. Here every answer hands log rows to a
program, so every page read is logged as an export (``audit:log:export``), with the filters,
the page position and the number of rows, after the query, so it is not part of its own answer.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from coordination.api.core import (
    ApiBlueprint,
    DbId,
    OutModel,
    Page,
    PageQuery,
    api_user,
    decode_offset,
    encode_offset,
)
from coordination.api.problems import invalid_field
from coordination.audit.checkpoints import verify_checkpoints
from coordination.audit.log import (
    AuditTag,
    record_event,
)
from coordination.audit.sequencer import unchained_tail
from coordination.audit.verify import verify_log
from coordination.db import db_session, utcnow
from coordination.logreview.events import LogFilter, child_for_filter, event_page
from coordination.logreview.scopes import audit_scopes, require_reviewer, tag_labels
from coordination.ops.metrics import ScrapeGauge, register_gauge
from coordination.web.params import MAX_DATE, MIN_DATE

bp = ApiBlueprint(
    "api_audit",
    __name__,
    tag="Logg",
    description="Logghändelser och kontroll av loggkedjan (endast logggranskare).",
)

DetailValue = str | int | bool | None | list[str | int | bool | None]


class AuditEventQuery(PageQuery):
    user_id: DbId | None = Field(None, description="Bara händelser av den här användaren.")
    child_id: DbId | None = Field(
        None,
        description="Bara händelser om det här barnet (barnets id, aldrig pseudonymen). "
        "Barnet måste finnas i ett forum där din myndighet deltar.",
    )
    tag: str | None = Field(
        None,
        max_length=80,
        pattern=r"^[a-z_]+(:[a-z_]+)+$",
        description="Bara händelser av den här typen, t.ex. auth:login:success.",
    )
    date_from: dt.date | None = Field(
        None,
        ge=MIN_DATE,
        le=MAX_DATE,
        description="Från och med den här dagen (svensk tid), ÅÅÅÅ-MM-DD.",
    )
    date_to: dt.date | None = Field(
        None,
        ge=MIN_DATE,
        le=MAX_DATE,
        description="Till och med den här dagen (svensk tid), ÅÅÅÅ-MM-DD.",
    )

    @field_validator("date_to")
    @classmethod
    def _not_before_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("date_from")
        if value is not None and start is not None and value < start:
            raise ValueError(str(_l("Slutdagen är före startdagen.")))
        return value


class AuditEventOut(OutModel):
    seq: int = Field(description="Händelsens id (löpnummer när den registrerades).")
    chain_position: int | None = Field(
        description="Plats i loggkedjan; null medan händelsen är sparad men ännu inte kedjad "
        "(sekvenseraren länkar in den inom några sekunder)."
    )
    occurred_at: dt.datetime
    actor_user_id: int | None = Field(description="Vem som gjorde det; null för systemet.")
    actor_display_name: str | None
    actor_agency_id: int | None
    tag: str = Field(description="Händelsetyp, t.ex. secrecy:record:reveal.")
    tag_label: str | None = Field(description="Händelsetypen i klartext.")
    object_type: str | None
    object_ids: list[int]
    details: dict[str, DetailValue] = Field(
        description="Id:n, koder och rättsliga grunder; aldrig innehåll eller personuppgifter."
    )


class VerifyOut(OutModel):
    ok: bool = Field(description="Kedjan, objektindexet och alla kontrollpunkter håller.")
    checked: int = Field(description="Antal händelser i kedjan som kontrollerades och är hela.")
    first_broken_seq: int | None = Field(
        description="Första händelsen som inte stämmer (kedjan eller objektindexet)."
    )
    problem: str | None = Field(description="Vad som inte stämmer, om något.")
    object_index_ok: bool
    checkpoints_checked: int
    first_bad_checkpoint_id: int | None
    checkpoint_public_keys: list[str] = Field(
        description="Publika nycklar som kontrollpunkterna är signerade med."
    )
    unchained: int = Field(
        description="Händelser som är sparade men ännu inte kedjade (inget fel: "
        "sekvenseraren länkar in dem)."
    )
    oldest_unchained_age_seconds: float | None = Field(
        description="Ålder i sekunder på den äldsta händelsen som ännu inte är kedjad."
    )
    unchained_alarm: bool = Field(
        description="Den äldsta okedjade händelsen är äldre än gränsen "
        "(AUDIT_CHAIN_ALARM_SECONDS): sekvenseraren går troligen inte."
    )


@bp.operation(
    "/audit/events",
    summary="Logghändelser, nyast först",
    description="Samma urval som sidan Loggkontroll: händelser av din myndighets användare "
    "och visningar och utlämnanden av din myndighets uppgifter. Varje anrop loggas som en "
    "export.",
)
def audit_events(query: AuditEventQuery) -> Page[AuditEventOut]:
    session = db_session()
    user = api_user()
    require_reviewer(user)
    if query.child_id is not None and (
        child_for_filter(session, query.child_id, user.agency_id) is None
    ):
        # Unknown and out-of-reach children are refused alike: no list under a refused filter.
        raise invalid_field(
            "child_id", _l("Det finns inget barn med det id:t i din myndighets forum.")
        )
    filters = LogFilter(
        user_id=query.user_id,
        child_id=query.child_id,
        tag=query.tag,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    # Keyset paging: the cursor carries the sequence number to continue below, so events
    # appended meanwhile (this read's own export event among them) do not shift the pages.
    before = decode_offset(query.cursor) if query.cursor is not None else None
    page = event_page(
        session,
        user,
        filters,
        audit_scopes(current_app),
        before=before,
        size=query.limit,
    )
    record_event(
        session,
        user,
        AuditTag.AUDIT_EXPORT,
        object_type="agency",
        object_ids=[user.agency_id],
        details={**filters.as_details(), "rows": len(page.events), "before_seq": before},
    )
    labels = tag_labels(current_app)
    items = []
    for event in page.events:
        actor = page.users.get(event.actor_user_id) if event.actor_user_id else None
        label = labels.get(event.tag)
        items.append(
            AuditEventOut(
                seq=event.seq,
                chain_position=event.chain_position,
                occurred_at=event.occurred_at,
                actor_user_id=event.actor_user_id,
                actor_display_name=actor.name if actor else None,
                actor_agency_id=event.actor_agency_id,
                tag=event.tag,
                tag_label=str(label) if label is not None else None,
                object_type=event.object_type,
                object_ids=list(event.object_ids),
                details=dict(event.details),
            )
        )
    return Page(
        items=items,
        next_cursor=encode_offset(page.older_than) if page.older_than is not None else None,
    )


@bp.operation(
    "/audit/verify",
    summary="Kontrollera loggkedjan",
    description="Samma kontroll som flask audit verify: varje kedjad händelses hash och länk, "
    "objektindexet och de signerade kontrollpunkterna. Händelser som ännu inte är kedjade "
    "räknas för sig och är inget fel.",
)
def audit_verify() -> VerifyOut:
    session = db_session()
    require_reviewer(api_user())
    # No lock: appends go on while the chain is read, and verify_log checks those too (up to
    # the head it reads after its pass), so none looks like a deleted event.
    log = verify_log(session)
    chain, index = log.chain, log.index
    checkpoints = verify_checkpoints(session)
    if not chain.ok:
        first_broken, problem = chain.first_broken_seq, chain.problem
    elif not index.ok:
        first_broken, problem = index.first_broken_seq, index.problem
    elif not checkpoints.ok:
        first_broken, problem = (
            None,
            f"checkpoint {checkpoints.first_bad_id}: {checkpoints.problem}",
        )
    else:
        first_broken, problem = None, None
    age = log.unchained.age_seconds(utcnow()) if log.unchained.count else None
    limit = int(current_app.config.get("AUDIT_CHAIN_ALARM_SECONDS") or 0)
    return VerifyOut(
        ok=chain.ok and index.ok and checkpoints.ok,
        unchained=log.unchained.count,
        oldest_unchained_age_seconds=round(age, 3) if age is not None else None,
        unchained_alarm=bool(limit and age is not None and age > limit),
        checked=chain.checked,
        first_broken_seq=first_broken,
        problem=problem,
        object_index_ok=index.ok,
        checkpoints_checked=checkpoints.checked,
        first_bad_checkpoint_id=checkpoints.first_bad_id,
        checkpoint_public_keys=list(checkpoints.public_keys),
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_audit_unchained_events",
            "Audit events durable but not yet linked into the hash chain.",
            lambda session: float(unchained_tail(session).count),
        ),
    )
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_audit_unchained_oldest_age_seconds",
            "Age of the oldest audit event not yet chained (0 when none waits).",
            lambda session: unchained_tail(session).age_seconds(utcnow()),
        ),
    )
    register_gauge(
        app,
        ScrapeGauge(
            "samverkan_audit_chain_alarm",
            "1 when the oldest unchained audit event is older than AUDIT_CHAIN_ALARM_SECONDS.",
            _chain_alarm,
        ),
    )


def _chain_alarm(session: Session) -> float:
    limit = int(current_app.config.get("AUDIT_CHAIN_ALARM_SECONDS") or 0)
    if limit <= 0:
        return 0.0
    return float(unchained_tail(session).age_seconds(utcnow()) > limit)
