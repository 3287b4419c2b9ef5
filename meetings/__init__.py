"""Meetings: schedules, meetings, attendance, agendas, notifications and calendar feeds."""
