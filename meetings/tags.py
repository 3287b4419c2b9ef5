"""Audit event tags of the meetings package (``domain:object:action``)."""

from __future__ import annotations

import enum


class MeetingTag(enum.StrEnum):
    # Meeting page, attendance and agenda (meetings.agenda)
    MEETING_ROLES = "meetings:meeting:roles"
    ATTENDANCE_INVITE = "meetings:attendance:invite"
    ATTENDANCE_SET = "meetings:attendance:set"
    GUEST_ADD = "meetings:guest:add"
    GUEST_REMOVE = "meetings:guest:remove"
    AGENDA_ADD = "meetings:agenda:add"
    AGENDA_MOVE = "meetings:agenda:move"
    AGENDA_REMOVE = "meetings:agenda:remove"
    AGENDA_CONTRIBUTED = "meetings:agenda:contributed"
    AGENDA_BRIEF = "meetings:agenda:brief"
    # Calendar files and feeds (meetings.calendar.services)
    CALENDAR_EXPORT = "meetings:calendar:export"
    FEED_TOKEN_CREATE = "meetings:feed_token:create"  # noqa: S105 - an event name
    FEED_TOKEN_REVOKE = "meetings:feed_token:revoke"  # noqa: S105 - an event name
    # Schedules, materialising, moving and cancelling (meetings.schedules)
    SCHEDULE_CREATE = "meetings:schedule:create"
    SCHEDULE_UPDATE = "meetings:schedule:update"
    MEETINGS_MATERIALISE = "meetings:meetings:materialise"
    MEETING_CREATE = "meetings:meeting:create"
    MEETING_MOVE = "meetings:meeting:move"
    MEETING_CANCEL = "meetings:meeting:cancel"
    # The Bob case sync (meetings.casesync)
    CASE_SYNC_SUBMIT = "meetings:case_sync:submit"
    CASE_SYNC_MATCH = "meetings:case_sync:match"
    CASE_SYNC_PROPOSE = "meetings:case_sync:propose"
    CASE_SYNC_ACCEPT = "meetings:case_sync:accept"
    CASE_SYNC_DECLINE = "meetings:case_sync:decline"
    CASE_SYNC_ANSWER = "meetings:case_sync:answer"
    # Network meetings with the family (meetings.network)
    NETWORK_CREATE = "meetings:network:create"
    NETWORK_PARTICIPANT_ADD = "meetings:network_participant:add"
    NETWORK_PARTICIPANT_STATUS = "meetings:network_participant:status"
    NETWORK_LETTER_CREATE = "meetings:network_letter:create"
    NETWORK_LETTER_PRINT = "meetings:network_letter:print"
    NETWORK_VOICE_ADD = "meetings:network_voice:add"
