"""The per-child writing page: who can be given what is written stated once per recipient
(the legal reasons behind "Visa varför"), one category select, and the forms naming the
agencies without a basis in one line."""

from __future__ import annotations

import re

import time_machine
from flask import Flask
from sqlalchemy.orm import Session

from coordination.models import AgencyKind
from tests.conftest import Council3
from tests.factories import ASSESSED
from tests.minutes.test_workspace import (
    NOW,
    Setting,
    entry_form,
    police_share,
    social_note,
)
from tests.minutes.test_workspace import setting as setting  # a fixture, re-exported

WEAK = "Mottagarens eget sekretesskydd är svagt; uppgifter lämnas dit bara med samtycke."


@time_machine.travel(NOW, tick=False)
def test_each_recipient_is_explained_once_however_many_forms_the_page_holds(
    db: Session, world: Council3, setting: Setting, client_for
) -> None:
    for n in range(4):  # four own entries: four edit forms, each with its share choices
        social_note(db, setting, f"Egen-anteckning-{n}")
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    page = social.get(f"/meetings/{setting.meeting.id}/minutes/children/{setting.child.id}")
    assert page.status_code == 200
    html = page.text
    assert html.count('<form method="post"') >= 6  # new entry, new action, four edits
    # The leisure agency (present, not in the child's council) is explained once, behind
    # "Visa varför", and each form names it in one short line.
    # The leisure agency (weak protection of its own, no consent) is explained once, behind
    # "Visa varför", for both kinds of writing; each form names it in one short line.
    recipients = html[html.index('id="recipients"') : html.index("</section>")]
    leisure = recipients[recipients.index("<strong>Test leisure</strong>") :]
    leisure = leisure[: leisure.index("</ul>\n    </li>")]
    assert leisure.count(WEAK) == 1
    assert "Anteckningar i kategorin Mötesanteckning och beskrivningar av åtgärder:" in leisure
    assert re.search(r"<details><summary>Visa varför</summary>", leisure)
    # Once per recipient in the whole page: the forms do not repeat it.
    blocks = recipients.count("<li><strong>")
    assert 1 <= html.count(WEAK) <= blocks
    assert html.count("Kan inte få uppgiften:") == 6  # four edits, the new entry, the action
    # The police can be given a meeting note: the basis is named in the recipients' list.
    assert "kan få uppgiften med stöd av" in recipients
    # One category select; the entry form carries the chosen category.
    assert len(re.findall(r"<select[^>]*name=\"[^\"]*category\"", html)) == 1
    child_id = setting.child.id
    assert f'<input type="hidden" name="e{child_id}-category" value="meeting_note">' in html


@time_machine.travel(NOW, tick=False)
def test_the_category_chosen_decides_the_entry_forms_category_and_a_refusal_keeps_it(
    app: Flask, db: Session, setting: Setting, client_for
) -> None:
    social = client_for(AgencyKind.SOCIAL_SERVICES)
    url = f"/meetings/{setting.meeting.id}/minutes/children/{setting.child.id}"
    child_id = setting.child.id
    chosen = social.get(f"{url}?category=family").text
    assert f'name="e{child_id}-category" value="family"' in chosen
    assert re.search(r'<option value="family" selected>', chosen)
    refused = social.post(
        f"{url}/entries",
        data=entry_form(child_id, "", "family"),
    )
    assert refused.status_code == 422
    assert f'name="e{child_id}-category" value="family"' in refused.text
    # The error summary at the top of the refused form links to the empty field.
    assert f'<a href="#e{child_id}-text">Text: Fältet måste fyllas i.</a>' in refused.text


@time_machine.travel(NOW, tick=False)
def test_every_entry_says_which_agencies_it_is_shared_with(
    db: Session, setting: Setting, client_for
) -> None:
    social_note(db, setting, "Delad-anteckning", police_share(setting), ASSESSED)
    social_note(db, setting, "Egen-anteckning")
    url = f"/meetings/{setting.meeting.id}/minutes"
    social = client_for(AgencyKind.SOCIAL_SERVICES).get(url).text
    shared = social[social.index("Delad-anteckning") :]
    assert shared.index("Delad med: Test police") < shared.index("Egen-anteckning")
    assert "Inte delad med någon annan myndighet." in social[social.index("Egen-anteckning") :]
    police = client_for(AgencyKind.POLICE).get(url).text
    assert "Delad-anteckning" in police and "Delad med: Test police" in police
    school = client_for(AgencyKind.SCHOOL).get(url).text
    assert "Delad-anteckning" not in school and "Delad med:" not in school
