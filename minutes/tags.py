"""Audit event tags of the minutes package (``domain:object:action``)."""

from __future__ import annotations

import enum


class MinutesTag(enum.StrEnum):
    PRINT_EXPORT = "minutes:print:export"
    REPORT_EXPORT = "minutes:report:export"
    PDF_EXPORT = "minutes:pdf:export"
    MINUTES_CREATE = "minutes:minutes:create"
    ENTRY_ADD = "minutes:entry:add"
    ENTRY_EDIT = "minutes:entry:edit"
    ENTRY_CONFLICT = "minutes:entry:conflict"
    ENTRY_AMEND = "minutes:entry:amend"
    ACTION_CREATE = "minutes:action:create"
    MINUTES_SUBMIT = "minutes:minutes:submit"
    MINUTES_WITHDRAW = "minutes:minutes:withdraw"
    MINUTES_SEND_BACK = "minutes:minutes:send_back"
    MINUTES_APPROVE = "minutes:minutes:approve"
    MINUTES_LOCK = "minutes:minutes:lock"
    ACTION_UPDATE = "minutes:action:update"
    PLAN_CREATE = "minutes:plan:create"
    PLAN_EDIT = "minutes:plan:edit"
    PLAN_REVISE = "minutes:plan:revise"
    PLAN_AGREE = "minutes:plan:agree"
    PLAN_MEASURE = "minutes:plan:measure"
    PLAN_EVALUATE = "minutes:plan:evaluate"
    PLAN_EXPORT = "minutes:plan:export"

    ASSESSMENT_CREATE = "minutes:assessment:create"
