"""The meeting page's services: who may open a meeting, attendance (invitations, statuses,
guests), chair and minute taker, and the agenda (children, sealed briefs, order, deadline).

Services take ``(session, actor, ...)``, validate, change, flush and append their audit event in
the caller's transaction; they never commit. The modules, each importing only those above it:

- ``access``: ``meeting_for`` (who may open and change a meeting), and the meeting-status guards;
- ``attendance``: invitations, attendance statuses, guests, chair and minute taker;
- ``deadline``: the agenda deadline in Swedish working days;
- ``items``: adding, ordering and removing agenda items with their sealed briefs;
- ``contributors``: the seam through which the minutes package adds children by itself;
- ``overview``: the agenda as one viewer may see it, briefs revealed through
``secrecy.records.reveal``;
- ``meeting_page``, ``views`` and ``api``: the meeting page and projector, and the API.

Import each name from the module that defines it.
"""
