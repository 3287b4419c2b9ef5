"""Recording a structured assessment, and reading a child's assessments through the one door.

Each assessed area becomes one sealed record of the assessing agency (score and comment), in the
category the instrument gives that area, so the agency can disclose single areas through the
ordinary disclosure flow and the policy engine decides. The overall level is one more record,
and is sealed on the row too for the council's counts (``stats``).
Services take ``(session, actor, ...)``, validate everything before they write, flush and append
their audit event in the caller's transaction; they never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from coordination.audit.log import record_event
from coordination.db import today_local
from coordination.errors import ServiceError
from coordination.models import Child, ChildStatus, User
from minutes.assessments.instruments import Area, Catalogue, Instrument, catalogue
from minutes.assessments.models import Assessment, AssessmentArea
from minutes.tags import MinutesTag
from secrecy.models import Record
from secrecy.records.reveal import Revealed, RevealResult, reveal_records
from secrecy.records.sealing import seal_assessment_level
from secrecy.records.services import add_sealed_record, require_child_access

OVERALL_CATEGORY = "risk_protective"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class AreaInput:
    """One area as entered: a step value of its scale, or None for "not assessed"."""

    score: str | None
    comment: str = ""


@dataclass(frozen=True)
class AssessmentInput:
    instrument_id: str
    instrument_version: str
    assessed_on: dt.date | None
    areas: Mapping[str, AreaInput]
    overall_level: str | None = None  # only when the instrument lets the assessor set it
    overall_comment: str = ""


def instrument_for(instrument_id: str, version: str, found: Catalogue | None = None) -> Instrument:
    instrument = (found or catalogue()).get(instrument_id, version)
    if instrument is None:
        raise ServiceError(
            _l("Instrumentet finns inte (eller inte i den versionen)."), field="instrument"
        )
    return instrument


def _check_comment(text: str, field_name: str) -> str:
    text = text.strip()
    if len(text) > MAX_COMMENT:
        raise ServiceError(_l("Kommentaren är för lång (högst 2 000 tecken)."), field=field_name)
    return text


def _validated_areas(
    instrument: Instrument, areas: Mapping[str, AreaInput]
) -> dict[str, tuple[Area, AreaInput]]:
    unknown = sorted(code for code in areas if instrument.area(code) is None)
    if unknown:
        raise ServiceError(
            _l(
                "Området ”%(code)s” finns inte i instrumentet %(name)s.",
                code=unknown[0],
                name=instrument.name,
            ),
            field="areas",
        )
    checked: dict[str, tuple[Area, AreaInput]] = {}
    for area in instrument.areas:
        given = areas.get(area.code, AreaInput(score=None))
        comment = _check_comment(given.comment, f"comment_{area.code}")
        score = (given.score or "").strip() or None
        if score is not None:
            scale = instrument.scale_of(area)
            if scale.step(score) is None:
                raise ServiceError(
                    _l(
                        "Värdet ”%(value)s” finns inte på skalan för %(area)s "
                        "(tillåtna värden: %(allowed)s).",
                        value=score,
                        area=area.label,
                        allowed=", ".join(step.value for step in scale.steps),
                    ),
                    field=f"score_{area.code}",
                )
        checked[area.code] = (area, AreaInput(score=score, comment=comment))
    if all(given.score is None for _area, given in checked.values()):
        raise ServiceError(_l("Bedöm minst ett område."), field="areas")
    return checked


def _overall(instrument: Instrument, scores: Mapping[str, str], given: str | None) -> str:
    if instrument.overall.method == "rule":
        derived = instrument.derive_level(scores) or instrument.overall.levels[0].code
        if given and given != derived:
            raise ServiceError(
                _l(
                    "Den samlade nivån räknas fram av instrumentet (%(level)s) och kan inte "
                    "sättas för hand.",
                    level=instrument.overall.label(derived),
                ),
                field="overall_level",
            )
        return derived
    codes = [level.code for level in instrument.overall.levels]
    if not given:
        raise ServiceError(_l("Välj en samlad nivå."), field="overall_level")
    if given not in codes:
        raise ServiceError(
            _l(
                "Den samlade nivån ”%(value)s” finns inte i instrumentet (tillåtna värden: "
                "%(allowed)s).",
                value=given,
                allowed=", ".join(codes),
            ),
            field="overall_level",
        )
    return given


def _area_text(instrument: Instrument, day: dt.date, area: Area, given: AreaInput) -> str:
    """The record's readable text, for the child page's list of records."""
    if given.score is None:
        value = "ej bedömt"
    else:
        step = instrument.scale_of(area).step(given.score)
        value = step.label if step else given.score
    text = f"Strukturerad bedömning {day.isoformat()}, {area.label}: {value}."
    return f"{text} {given.comment}" if given.comment else text


def record_assessment(
    session: Session, actor: User, child: Child, data: AssessmentInput
) -> Assessment:
    """A new assessment by the actor's agency. A replaced instrument version is allowed (an
    assessment made on paper with the old form, say) and shown as such."""
    require_child_access(actor, child)
    if child.status is not ChildStatus.ACTIVE:
        raise ServiceError(_l("Ärendet är avslutat. Öppna det igen för att lägga till uppgifter."))
    instrument = instrument_for(data.instrument_id, data.instrument_version)
    if data.assessed_on is None:
        raise ServiceError(_l("Ange ett datum."), field="assessed_on")
    if data.assessed_on > today_local():
        raise ServiceError(
            _l("Datumet för bedömningen kan inte ligga i framtiden."), field="assessed_on"
        )
    if data.assessed_on < child.enrolled_on - dt.timedelta(days=366):
        raise ServiceError(
            _l("Datumet ligger mer än ett år före inskrivningen i forumet."), field="assessed_on"
        )
    checked = _validated_areas(instrument, data.areas)
    scores = {code: given.score for code, (_a, given) in checked.items() if given.score}
    level = _overall(instrument, scores, data.overall_level)
    overall_comment = _check_comment(data.overall_comment, "overall_comment")

    day = data.assessed_on
    overall_text = (
        f"Strukturerad bedömning {day.isoformat()} ({instrument.name}, version "
        f"{instrument.version}): samlad nivå {instrument.overall.label(level)}."
    )
    overall_record = add_sealed_record(
        session,
        actor,
        child,
        OVERALL_CATEGORY,
        {
            "text": f"{overall_text} {overall_comment}".strip(),
            "level": level,
            "comment": overall_comment,
        },
    )
    assessment = Assessment(
        child_id=child.id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        assessed_on=day,
        assessor_id=actor.id,
        agency_id=actor.agency_id,
        overall_level_sealed=seal_assessment_level(session, child.id, overall_record.id, level),
        overall_record_id=overall_record.id,
    )
    session.add(assessment)
    record_ids: list[int] = []
    for code, (area, given) in checked.items():
        record_id = None
        if given.score is not None or given.comment:
            record = add_sealed_record(
                session,
                actor,
                child,
                area.category,
                {
                    "text": _area_text(instrument, day, area, given),
                    "area": code,
                    "score": given.score,
                    "comment": given.comment,
                },
            )
            record_id = record.id
            record_ids.append(record.id)
        assessment.areas.append(
            AssessmentArea(area_code=code, record_id=record_id, not_assessed=given.score is None)
        )
    session.flush()
    record_event(
        session,
        actor,
        MinutesTag.ASSESSMENT_CREATE,
        on=assessment,
        details={
            "child_id": child.id,
            "instrument": instrument.id,
            "version": instrument.version,
            "replaced_version": instrument.is_replaced,
            "overall_record_id": overall_record.id,
            "record_ids": record_ids,
            "not_assessed": sorted(c for c, (_a, g) in checked.items() if g.score is None),
        },
    )
    return assessment


# --- Reading ----------------------------------------------------------------------------------


def assessments_of(session: Session, child: Child) -> list[Assessment]:
    """The child's assessments, oldest first, with their areas (two queries)."""
    return list(
        session.scalars(
            select(Assessment)
            .where(Assessment.child_id == child.id)
            .options(
                selectinload(Assessment.areas),
                selectinload(Assessment.agency),
                selectinload(Assessment.assessor),
            )
            .order_by(Assessment.assessed_on, Assessment.id)
        )
    )


@dataclass(frozen=True)
class AreaView:
    """One area of one assessment as this reader may see it."""

    code: str
    label: str
    not_assessed: bool
    result: RevealResult | None  # None: not assessed and no comment
    score: str | None = None  # only when revealed
    score_label: str | None = None
    comment: str = ""
    rank: int | None = None  # the score's position on its scale, for the chart

    @property
    def withheld(self) -> bool:
        return self.result is not None and not isinstance(self.result, Revealed)


@dataclass(frozen=True)
class AssessmentView:
    assessment: Assessment
    instrument: Instrument | None  # None: the file is no longer configured
    overall: RevealResult
    overall_label: str | None  # only when revealed
    areas: list[AreaView] = field(default_factory=list)

    @property
    def replaced(self) -> bool:
        return self.instrument is not None and self.instrument.is_replaced

    @property
    def name(self) -> str:
        return self.instrument.name if self.instrument else self.assessment.instrument_id


def _area_view(
    instrument: Instrument | None, row: AssessmentArea, result: RevealResult | None
) -> AreaView:
    area = instrument.area(row.area_code) if instrument else None
    label = area.label if area else row.area_code
    if not isinstance(result, Revealed):
        return AreaView(row.area_code, label, row.not_assessed, result)
    score = result.content.get("score")
    step = None
    rank = None
    if instrument is not None and area is not None and isinstance(score, str):
        steps = instrument.scale_of(area).steps
        step = next((s for s in steps if s.value == score), None)
        rank = steps.index(step) if step is not None else None
    return AreaView(
        code=row.area_code,
        label=label,
        not_assessed=row.not_assessed,
        result=result,
        score=score,
        score_label=step.label if step else score,
        comment=str(result.content.get("comment", "")),
        rank=rank,
    )


def assessment_views(
    session: Session, viewer: User, assessments: Sequence[Assessment], purpose: str
) -> list[AssessmentView]:
    """Every assessment with its areas as ``viewer`` may see them: one reveal for all."""
    ids: list[int] = []
    for assessment in assessments:
        ids.append(assessment.overall_record_id)
        ids.extend(row.record_id for row in assessment.areas if row.record_id is not None)
    records = list(session.scalars(select(Record).where(Record.id.in_(ids)))) if ids else []
    revealed = {r.record.id: r for r in reveal_records(session, viewer, records, purpose=purpose)}
    found = catalogue()
    views = []
    for assessment in assessments:
        instrument = found.get(assessment.instrument_id, assessment.instrument_version)
        overall = revealed[assessment.overall_record_id]
        level = overall.content.get("level") if isinstance(overall, Revealed) else None
        views.append(
            AssessmentView(
                assessment=assessment,
                instrument=instrument,
                overall=overall,
                overall_label=(instrument.overall.label(level) if instrument and level else level),
                areas=[
                    _area_view(
                        instrument,
                        row,
                        revealed.get(row.record_id) if row.record_id is not None else None,
                    )
                    for row in assessment.areas
                ],
            )
        )
    return views


@dataclass(frozen=True)
class AreaHistory:
    """One area across the assessments: the points the reader may see, oldest first, and the
    change since the previous visible score."""

    code: str
    label: str
    kind: str
    steps: int  # how many steps the scale has
    points: list[tuple[dt.date, int]]
    change: int | None


def area_histories(views: Sequence[AssessmentView]) -> list[AreaHistory]:
    """Per area of the latest instrument, the visible scores of every assessment with the same
    instrument id. Withheld and not assessed areas add no point."""
    if not views:
        return []
    latest = next((v.instrument for v in reversed(views) if v.instrument), None)
    if latest is None:
        return []
    histories = []
    for area in latest.areas:
        points = [
            (view.assessment.assessed_on, a.rank)
            for view in views
            if view.assessment.instrument_id == latest.id
            for a in view.areas
            if a.code == area.code and a.rank is not None
        ]
        if not points:
            continue
        change = points[-1][1] - points[-2][1] if len(points) > 1 else None
        histories.append(
            AreaHistory(
                code=area.code,
                label=area.label,
                kind=area.kind.value,
                steps=len(latest.scale_of(area).steps),
                points=points,
                change=change,
            )
        )
    return histories


def erase_levels(session: Session, child_ids: Sequence[int]) -> None:
    """Gallring: the overall levels kept for the counts go with the shredded children's records.
    Shredding deletes the records' keys, but these are sealed with the installation's
    child-facts key, which stays: only erasing them makes them unrecoverable."""
    session.execute(
        update(Assessment)
        .where(Assessment.child_id.in_(child_ids))
        .values(overall_level_sealed=None)
    )
