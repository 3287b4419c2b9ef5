"""API: the council's target age range, its exceptions (avsteg) and the age thresholds ahead,
through the same doors as the pages (``secrecy.agerules.access``, ``secrecy.records.access``)
and the same services; exception texts only through ``secrecy.records.reveal``.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask
from pydantic import Field

from coordination.api.core import ApiBlueprint, ApiModel, OutModel, api_user
from coordination.db import db_session, today_local
from coordination.errors import fields_named
from secrecy.agerules import services
from secrecy.agerules.access import may_set_range, members_council, range_council
from secrecy.agerules.ranges import AgeRange, age_range, default_range
from secrecy.agerules.thresholds import WINDOW_DAYS, exact_dates_for, thresholds_ahead
from secrecy.policy.reasons import explain
from secrecy.records.access import child_for
from secrecy.records.api import AgencyRef

# The service's field names, as the body of POST /children/{id}/age-exceptions names them.
EXCEPTION_FIELDS = {
    "exception_reason": "reason",
    "exception_decided_by": "decided_by",
    "exception_stigmatisation": "stigmatisation",
    "exception_review_on": "review_on",
}

bp = ApiBlueprint(
    "api_agerules",
    __name__,
    tag="Målgruppsålder",
    description=(
        "Forumets målgruppsålder, avsteg från den och barn som de närmaste 60 dagarna passerar "
        "en åldersgräns där utlämnanden eller samtycken upphör."
    ),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


class AgeRangeOut(OutModel):
    council_id: int
    min_age: int | None = Field(description="Lägsta ålder i hela år; null: ingen gräns.")
    max_age: int | None = Field(description="Högsta ålder i hela år; null: ingen gräns.")
    is_default: bool = Field(description="Standardvärdet för forumets typ, inte satt i forumet.")
    default_min_age: int | None
    default_max_age: int | None
    may_set: bool = Field(description="Om du får ändra den (samordnare och administratörer).")
    version: int


class AgeRangeIn(ApiModel):
    min_age: int | None = Field(
        None, ge=0, le=99, description="Lägsta ålder; null: ingen gräns; utelämnad: oförändrad."
    )
    max_age: int | None = Field(
        None, ge=0, le=99, description="Högsta ålder; null: ingen gräns; utelämnad: oförändrad."
    )
    version: int | None = Field(None, description="Forumets version; ändrad sedan dess: 409.")


def _range_out(
    council_id: int, current: AgeRange, default: AgeRange, may: bool, version: int
) -> AgeRangeOut:
    return AgeRangeOut(
        council_id=council_id,
        min_age=current.min_age,
        max_age=current.max_age,
        is_default=current.is_default,
        default_min_age=default.min_age,
        default_max_age=default.max_age,
        may_set=may,
        version=version,
    )


@bp.operation(
    "/councils/<int:council_id>/age-range",
    summary="Forumets målgruppsålder",
)
def get_age_range(council_id: int) -> AgeRangeOut:
    """Målgruppsåldern som gäller, och standardvärdet för forumets typ."""
    user = api_user()
    council = range_council(db_session(), user, council_id)
    return _range_out(
        council.id,
        age_range(council),
        default_range(council.kind),
        may_set_range(user, council),
        council.version,
    )


@bp.operation(
    "/councils/<int:council_id>/age-range",
    method="PATCH",
    summary="Ändra forumets målgruppsålder",
)
def patch_age_range(council_id: int, body: AgeRangeIn) -> AgeRangeOut:
    """Samordnare och administratörer. Lägsta ålder högre än högsta avvisas (422)."""
    session = db_session()
    user = api_user()
    council = range_council(session, user, council_id)
    before = age_range(council)
    given = body.model_fields_set
    current = services.set_age_range(
        session,
        user,
        council,
        body.min_age if "min_age" in given else before.min_age,
        body.max_age if "max_age" in given else before.max_age,
        expected_version=body.version,
    )
    return _range_out(council.id, current, default_range(council.kind), True, council.version)


class AgeExceptionOut(OutModel):
    id: int
    child_id: int
    pseudonym: str
    age_at_decision: int
    range_min: int | None
    range_max: int | None
    decided_by: str
    decided_on: dt.date
    review_on: dt.date
    recorded_by_agency: AgencyRef
    withheld: bool = Field(description="Texterna undanhålls för din myndighet.")
    withheld_reason: str | None
    reason: str | None = Field(description="Skälet; null när texterna undanhålls.")
    stigmatisation: str | None = Field(
        description="Bedömningen av risken för stigmatisering; null när texterna undanhålls."
    )


class AgeExceptionIn(ApiModel):
    reason: str = Field(max_length=5000, description="Skälet till avsteget (krypteras).")
    decided_by: str = Field(max_length=200, description="Vem som beslutade.")
    stigmatisation: str = Field(
        "", max_length=5000, description="Krävs för barn under 12 år (krypteras)."
    )
    review_on: dt.date = Field(description="När avsteget ska omprövas.")


def _exception_out(view: services.ExceptionView) -> AgeExceptionOut:
    e = view.exception
    owner = e.details_record.owner_agency
    return AgeExceptionOut(
        id=e.id,
        child_id=e.child_id,
        pseudonym=e.child.pseudonym,
        age_at_decision=e.age_at_decision,
        range_min=e.range_min,
        range_max=e.range_max,
        decided_by=e.decided_by,
        decided_on=e.decided_on,
        review_on=e.review_on,
        recorded_by_agency=AgencyRef.model_validate(owner),
        withheld=view.withheld is not None,
        withheld_reason=view.withheld,
        reason=view.reason,
        stigmatisation=view.stigmatisation,
    )


class AgeExceptionsOut(OutModel):
    items: list[AgeExceptionOut]


@bp.operation(
    "/councils/<int:council_id>/age-exceptions",
    summary="Avsteg från forumets målgruppsålder",
)
def list_exceptions(council_id: int) -> AgeExceptionsOut:
    """Forumets avsteg, nyaste först; texterna bara för den som får läsa dem."""
    session = db_session()
    user = api_user()
    council = members_council(session, user, council_id)
    views = services.exception_views(session, user, services.council_exceptions(session, council))
    return AgeExceptionsOut(items=[_exception_out(v) for v in views])


@bp.operation(
    "/children/<int:child_id>/age-exceptions",
    method="POST",
    summary="Registrera ett avsteg för ett barn i forumet",
    status=201,
)
def create_exception(child_id: int, body: AgeExceptionIn) -> AgeExceptionOut:
    """För ett barn vars ålder är utanför forumets målgrupp; av myndigheten som ansvarar för
    ärendet. Inskrivning utanför målgruppen görs med ett avsteg i inskrivningsformuläret."""
    session = db_session()
    user = api_user()
    child = child_for(session, user, child_id)
    with fields_named(EXCEPTION_FIELDS):
        exception = services.record_exception(
            session,
            user,
            child,
            services.ExceptionData(
                reason=body.reason,
                decided_by=body.decided_by,
                stigmatisation=body.stigmatisation,
                review_on=body.review_on,
            ),
        )
    return _exception_out(services.exception_views(session, user, [exception])[0])


class LapseOut(OutModel):
    kind: str = Field(description="disclosure eller consent.")
    disclosure_id: int | None
    consent_id: int | None
    category: str | None
    owner_agency_id: int
    recipient_agency_id: int | None
    reason: str = Field(description="Varför det upphör, enligt regelverket (svenska).")


class ThresholdOut(OutModel):
    child_id: int
    pseudonym: str
    age: int = Field(description="Åldern barnet fyller.")
    date: dt.date | None = Field(
        description="Dagen; null för myndigheter som inte får se barnets identitet."
    )
    month: str = Field(description="Månaden, ÅÅÅÅ-MM.")
    bases_ending: list[str] = Field(description="Grunder (id) med den här åldersgränsen.")
    signers_from: list[str] | None = Field(
        description="Vem som skriver under samtycken från dagen, om det ändras."
    )
    lapses: list[LapseOut] = Field(description="Det som rör din myndighet och upphör.")
    other_lapses: int = Field(description="Antal som upphör hos andra myndigheter.")


class ThresholdsOut(OutModel):
    days: int = Field(description="Hur många dagar framåt listan gäller.")
    items: list[ThresholdOut]


@bp.operation(
    "/councils/<int:council_id>/age-thresholds",
    summary="Barn som passerar en åldersgräns de närmaste 60 dagarna",
)
def list_thresholds(council_id: int) -> ThresholdsOut:
    """Barn som fyller 15, 18 eller 21 inom 60 dagar, med vad som då upphör för din
    myndighet; beräknat med samma regelmotor som avgör när utlämnanden upphör."""
    session = db_session()
    user = api_user()
    council = members_council(session, user, council_id)
    found = thresholds_ahead(session, council, today_local(), WINDOW_DAYS)
    exact = exact_dates_for(session, user, found)
    out: list[ThresholdOut] = []
    for t in found:
        mine = t.lapses_for(user.agency_id)
        out.append(
            ThresholdOut(
                child_id=t.child.id,
                pseudonym=t.child.pseudonym,
                age=t.age,
                date=t.day if t.child.id in exact else None,
                month=t.day.strftime("%Y-%m"),
                bases_ending=[b.id for b in t.bases_ending],
                signers_from=sorted(s.value for s in t.signers[1]) if t.signers else None,
                lapses=[
                    LapseOut(
                        kind="disclosure" if lapse.disclosure is not None else "consent",
                        disclosure_id=lapse.disclosure.id if lapse.disclosure else None,
                        consent_id=lapse.consent.id if lapse.consent else None,
                        category=lapse.disclosure.record.category if lapse.disclosure else None,
                        owner_agency_id=lapse.owner_agency_id,
                        recipient_agency_id=(
                            lapse.disclosure.recipient_agency_id if lapse.disclosure else None
                        ),
                        reason=explain(lapse.reason),
                    )
                    for lapse in mine
                ],
                other_lapses=len(t.lapses) - len(mine),
            )
        )
    return ThresholdsOut(days=WINDOW_DAYS, items=out)
