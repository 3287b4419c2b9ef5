"""Audit event tags of the secrecy package (``domain:object:action``)."""

from __future__ import annotations

import enum


class SecrecyTag(enum.StrEnum):
    CHILD_ENROL = "secrecy:child:enrol"
    CHILD_DUPLICATE_REFUSED = "secrecy:child:duplicate_refused"
    CHILD_DUPLICATE_HELD = "secrecy:child:duplicate_held"
    CHILD_DUPLICATE_CLOSED = "secrecy:child:duplicate_closed"
    CHILD_DUPLICATE_KEPT = "secrecy:child:duplicate_kept"
    CHILD_DUPLICATE_RELEASED = "secrecy:child:duplicate_released"
    CHILD_CLOSE = "secrecy:child:close"
    CHILD_REOPEN = "secrecy:child:reopen"
    RECORD_CREATE = "secrecy:record:create"
    RECORD_CORRECT = "secrecy:record:correct"
    RECORD_REVEAL = "secrecy:record:reveal"
    EXTRACT_EXPORT = "secrecy:extract:export"
    KEYS_ROTATE_MASTER = "secrecy:keys:rotate_master"
    KEYS_ROTATE_AGENCY = "secrecy:keys:rotate_agency"
    KEYS_CHECK = "secrecy:keys:check"
    RETENTION_SHRED = "secrecy:retention:shred"
    BACKUP_CREATE = "secrecy:backup:create"
    BACKUP_RESTORE = "secrecy:backup:restore"
    DISCLOSURE_DECIDE = "secrecy:disclosure:decide"
    DISCLOSURE_REVOKE = "secrecy:disclosure:revoke"
    DISCLOSURE_LAPSE = "secrecy:disclosure:lapse"
    CONSENT_REGISTER = "secrecy:consent:register"
    CONSENT_REVOKE = "secrecy:consent:revoke"
    REQUEST_CREATE = "secrecy:request:create"
    REQUEST_ANSWER = "secrecy:request:answer"
    REQUEST_CLOSE = "secrecy:request:close"
    REQUEST_OVERDUE = "secrecy:request:overdue"
    AGE_RANGE_SET = "secrecy:age_range:set"
    AGE_EXCEPTION_RECORD = "secrecy:age_exception:record"
    AGE_EXCEPTION_REVIEW_DUE = "secrecy:age_exception:review_due"
    AGE_THRESHOLD_NOTIFY = "secrecy:age_threshold:notify"
