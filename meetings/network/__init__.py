"""Network meetings (nätverksmöten): a meeting about one child with the young person, the
guardians and others who have no accounts (Custom under 18, SSPF network meetings, SIP-like).

- ``models``: the network meeting (one child, a kind, a purpose, the inviting agency), its
  external participants (role; name and e-mail a sealed record of the inviting agency), the
  invitation letters (sealed) and the young person's voice (sealed, per recording agency);
- ``access``: who may open and change one;
- ``services``: creating one, participants and their attendance, the young person's voice;
- ``projection``: the shared screen (what every attending agency may see);
- ``letters``: writing the invitation letters, and the letter as PDF;
- ``views`` and ``api``: the pages and the JSON API.

What was said is recorded in the meeting's minutes (the child is its one agenda item) and
agreed measures as agreed actions: the minutes package serves those pages.
"""
