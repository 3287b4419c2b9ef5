"""Who may see and record structured assessments, and ``assessment_for``: the one loader of the
pages and the API.

An assessment's metadata (instrument, day, assessor and agency, areas not assessed) is for the
members of the child's council; each area's score and comment is a sealed record that only the
assessing agency and the recipients of a disclosure in force can open. Any member of the council
may record an assessment for their own agency while the case is open.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coordination.errors import PermissionDenied, get_or_not_found
from coordination.models import Child, ChildStatus, User
from coordination.policy import Need, can_view_council
from minutes.assessments.models import Assessment


def can_record_assessment(user: User, child: Child) -> bool:
    return (
        user.is_active
        and can_view_council(user, child.council)
        and child.status is ChildStatus.ACTIVE
    )


def assessment_for(
    session: Session, actor: User, assessment_id: int, need: Need = Need.VIEW
) -> Assessment:
    """The assessment for VIEW (members of the child's council), or the logged 403."""
    if need is not Need.VIEW:
        raise ValueError(f"assessment_for cannot decide {need}")
    assessment = get_or_not_found(session, Assessment, assessment_id, "assessment")
    if not can_view_council(actor, assessment.child.council):
        raise PermissionDenied(object_type="assessment", object_ids=[assessment_id])
    return assessment
