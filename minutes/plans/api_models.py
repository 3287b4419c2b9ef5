"""The plan API's request and response bodies (their fields are the OpenAPI document's)."""

from __future__ import annotations

import datetime as dt
from datetime import date

from pydantic import Field

from coordination.api.core import ApiModel, OutModel
from coordination.web.converters import MAX_DB_ID
from minutes.plans import services
from minutes.plans.models import (
    EvaluationOutcome,
    PlanVersionStatus,
)
from secrecy.records.api import RecordOut

Id = Field(ge=1, le=MAX_DB_ID)


class MeasureOut(OutModel):
    action_id: int
    responsible_agency_id: int
    due_date: dt.date
    status: str
    description: RecordOut


class GoalOut(OutModel):
    id: int
    key: int = Field(description="Samma mål har samma nyckel i alla versioner.")
    area: str = Field(description="Livsområde (nyckel).")
    target_date: dt.date
    text: RecordOut
    indicator: RecordOut
    measures: list[MeasureOut]
    outcome: EvaluationOutcome | None = Field(description="Uppföljningens bedömning; null före.")
    evaluation_comment: RecordOut | None


class VersionOut(OutModel):
    id: int
    number: int
    status: PlanVersionStatus
    evaluate_on: dt.date | None
    agreed_meeting_id: int | None
    locked: bool = Field(description="Fastställd i ett justerat protokoll (eller ersatt).")
    evaluated: bool = Field(description="Alla mål är uppföljda.")
    reason: RecordOut | None = Field(description="Skälet till en ny version; null för den första.")
    youth_view: RecordOut | None
    guardian_view: RecordOut | None
    goals: list[GoalOut]


class VersionRef(OutModel):
    id: int
    number: int
    status: PlanVersionStatus


class PlanOut(OutModel):
    id: int
    council_id: int
    child_id: int
    pseudonym: str
    coordinator_id: int | None
    version: int = Field(description="Skicka med vid ändringar; ändras vid varje ändring.")
    versions: list[VersionRef] = Field(description="Planens versioner, äldst först.")
    current: VersionOut = Field(description="Den senaste versionen.")


class PlanSummaryOut(OutModel):
    id: int
    child_id: int
    pseudonym: str
    coordinator_id: int | None
    latest_version: int
    status: PlanVersionStatus = Field(description="Den senaste versionens status.")
    goals: int = Field(description="Antal mål i den senaste versionen.")
    evaluate_on: date | None = Field(description="Uppföljningsdatum för den gällande versionen.")
    evaluated: bool = Field(description="Den gällande versionens mål är alla uppföljda.")


class PlanListOut(OutModel):
    items: list[PlanSummaryOut]


class PlanIn(ApiModel):
    child_id: int = Id
    coordinator_id: int = Id


class Versioned(ApiModel):
    version: int = Field(ge=0, le=2**31 - 1, description="Planens version (PlanOut.version).")


class GoalIn(Versioned):
    area: str = Field(max_length=40)
    text: str = Field(max_length=services.MAX_GOAL)
    indicator: str = Field(max_length=services.MAX_GOAL)
    target_date: dt.date


class ViewsIn(Versioned):
    youth_view: str = Field("", max_length=services.MAX_TEXT)
    guardian_view: str = Field("", max_length=services.MAX_TEXT)


class ReviseIn(Versioned):
    reason: str = Field(max_length=services.MAX_TEXT)


class AgreeIn(Versioned):
    meeting_id: int = Id
    evaluate_on: dt.date | None = Field(None, description="Uppföljningsdatum, om det inte är satt.")


class EvaluationIn(Versioned):
    outcome: EvaluationOutcome
    comment: str = Field(max_length=services.MAX_TEXT)


class ShareIn(ApiModel):
    agency_id: int = Id
    basis_id: str = Field(max_length=80, description="Rättslig grund (id ur regelverket).")
    confirmations: list[int] = Field(
        default_factory=list,
        max_length=20,
        description="Index för varje förutsättning som bekräftas (alla grundens krävs).",
    )


class MeasureIn(Versioned):
    meeting_id: int = Field(
        ge=1, le=MAX_DB_ID, description="Mötet där insatsen beslutas (barnet på dagordningen)."
    )
    text: str = Field(max_length=services.MAX_TEXT, description="Vad ska göras.")
    responsible_agency_id: int = Field(
        ge=1, le=MAX_DB_ID, description="En myndighet som deltar i forumet."
    )
    responsible_user_id: int | None = Field(None, ge=1, le=MAX_DB_ID)
    due_date: dt.date = Field(description="Klart senast; får inte ha passerat.")
    shares: list[ShareIn] = Field(
        default_factory=list,
        max_length=50,
        description=(
            "Myndigheter i forumet som beskrivningen lämnas ut till. Är en annan myndighet "
            "ansvarig måste den finnas med."
        ),
    )
    assessment: str | None = Field(
        None,
        max_length=10_000,
        description="Den skriftliga bedömningen bakom utlämnandet; krävs om något lämnas ut.",
    )


# The service's field names, as the measure's body names them.
MEASURE_FIELDS = {
    "basis": "shares",
    "confirmations": "shares",
    "recipient": "shares",
    "due_on": "due_date",
}
