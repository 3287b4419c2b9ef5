"""Schedules: recurrence rules in Stockholm wall-clock time, Swedish holidays, and the meetings
materialised from them ahead of time; moving, cancelling and adding single meetings.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. Import each name from its module; the modules,
each importing only those above it:

- ``checks``: who may plan a council's meetings, and the checks on time and place;
- ``rules``: the presets, checking a recurrence rule, its local dates and their UTC times;
- ``swedish_holidays``: public holidays and eves, by date, with their Swedish names;
- ``invitations``: the council's active members and their invitations, in bulk;
- ``materialise``: each schedule's meetings created ahead of time and kept in line with its rule;
- ``schedule_changes``: creating and changing schedules;
- ``meeting_changes``: moving, cancelling and adding single meetings;
- ``queries``: reading meetings and schedules for the pages, and a meeting's path.
"""
