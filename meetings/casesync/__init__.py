"""The Bob case sync: before each Bob meeting the police submit the young people they are
concerned about; social services see what was submitted, accept or decline enrolment
proposals, and answer per young person.

Secrecy, step by step:

- The personnummer is validated and turned into a blind index at once; matching against the
  council's caseload compares blind indexes only. The number itself is stored only inside
  sealed identity records, never in a column, a log event or a URL.
- The police information is a sealed record of the police, disclosed to social services under
  the first basis the policy engine accepts among ``SUBMISSION_BASES`` (the concern-report duty
  for a child under 18, else the general clause, else a consent on file), with the submitter's
  confirmations of that basis. No basis, no submission: nothing is written.
- Social services' answer is a sealed record of theirs. Even "known to social services" is
  their secret, so the answer is disclosed to the police under a basis (10 kap. 18 a § OSL or
  a consent), or withheld. The police's view never tells a withheld answer from no answer:
  it reveals only answers that carry a live disclosure to the police, so a withheld answer is
  not even opened (and leaves no trace in the police's log) on their behalf.

Services take ``(session, actor, ...)``, validate, change, flush and append their audit events
(ids and codes only) in the caller's transaction; they never commit.

The package: ``access`` (who takes part, ``sync_meeting_for``, and the guards every service
runs first), ``records`` (the sealed records and the bases they travel under), ``caseload``
(which cases take part, and the agenda item), ``submission`` (the police's submission, the
flow's entry point), ``proposals``, ``answers`` and ``overview`` (the page). Import each name
from the module that defines it.
"""
