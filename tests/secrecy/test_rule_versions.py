"""Rule-set versions (secrecy.policy.versions): the shipped history, the differences between
versions, the recorded basis of past decisions, and the admin page that shows them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask.testing import FlaskClient

from secrecy.policy import versions
from secrecy.policy.engine import DisclosureFacts, RecipientFacts, RecordFacts, Refusal
from secrecy.policy.rules import RULES_DIR, legal_bases, ruleset_version
from secrecy.policy.versions import (
    Change,
    basis_as_decided,
    current_rule_set,
    diff_rule_sets,
    rule_set_history,
    show_value,
    unrecorded_change,
)


def test_every_version_is_kept_and_the_one_in_force_is_recorded_as_it_reads() -> None:
    history = rule_set_history()
    assert list(history)[:2] == ["2026.2", "2026.1"]
    assert ruleset_version() == "2026.2" == current_rule_set().version
    assert not unrecorded_change()
    # Every version in the change log of the file in force has its copy, and vice versa.
    assert {e.version for e in current_rule_set().changelog} == set(history)
    for path in (RULES_DIR / "history").glob("*.toml"):
        assert path.stem == f"legal_bases-{versions.parse_rule_set(path.read_text()).version}"


def test_a_changed_rule_without_a_new_version_is_noticed(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = dict(legal_bases())
    changed["own-task"] = dataclasses.replace(changed["own-task"], note="Ändrad i hemlighet.")
    monkeypatch.setattr(versions, "legal_bases", lambda: changed)
    assert unrecorded_change()


def test_the_differences_between_2026_1_and_2026_2() -> None:
    history = rule_set_history()
    diffs = {d.basis_id: d for d in diff_rule_sets(history["2026.1"], history["2026.2"])}
    assert {b for b, d in diffs.items() if d.change is Change.ADDED} == {
        "internal-use",
        "crime-other-secrecy",
        "principal-report",
    }
    care = {f.field: f for f in diffs["care-chain"].fields}
    assert (care["different_kinds"].old, care["different_kinds"].new) == ("ja", "nej")
    assert care["to_kinds"].new == "disability_support, healthcare, social_services"
    assert "statement_label" in {f.field for f in diffs["own-task"].fields}
    assert "general-clause" not in diffs  # unchanged rules are not listed
    # Backwards, the added rules are removed ones.
    back = diff_rule_sets(history["2026.2"], history["2026.1"])
    assert {d.basis_id for d in back if d.change is Change.REMOVED} == {
        "internal-use",
        "crime-other-secrecy",
        "principal-report",
    }
    assert diff_rule_sets(history["2026.2"], history["2026.2"]) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "–"),
        (frozenset(), "–"),
        ("", "–"),
        (True, "ja"),
        (frozenset({"b", "a"}), "a, b"),
        (("x", "y"), "x | y"),
        (dt.date(2025, 4, 1), "2025-04-01"),
        (Change.ADDED, "added"),
        (21, "21"),
    ],
)
def test_show_value(value: object, shown: str) -> None:
    assert show_value(value) == shown


def test_a_past_decision_keeps_the_basis_it_was_decided_under() -> None:
    """sol-police-u21 gained a fourth statement in 2026.2; a decision recorded under 2026.1
    still shows the three it was decided on. An unknown version falls back to the rule in
    force, and a rule removed since is still shown as it read."""
    then = basis_as_decided("sol-police-u21", "2026.1")
    now = basis_as_decided("sol-police-u21", "2026.2")
    assert then is not None and now is not None
    assert len(then.confirmations) == 3
    assert len(now.confirmations) == 4
    assert basis_as_decided("sol-police-u21", None) is legal_bases()["sol-police-u21"]
    assert basis_as_decided("sol-police-u21", "1999.1") is legal_bases()["sol-police-u21"]
    assert basis_as_decided("no-such-rule", "2026.1") is None


def test_a_rule_whose_end_date_passes_lapses_disclosures_decided_under_any_version() -> None:
    """Lapse is judged by the rules in force: a rule given an end date ends the disclosures
    made under it the day after, whatever version they were decided under."""
    from secrecy.policy.engine import disclosure_in_force

    ended = dict(legal_bases())
    ended["care-chain"] = dataclasses.replace(
        ended["care-chain"], effective_to=dt.date(2026, 6, 30)
    )
    record = RecordFacts(1, "social_services", "risk_protective", 10)
    disclosed = DisclosureFacts("care-chain", RecipientFacts(2, "healthcare", False), None)
    birth = dt.date(2014, 1, 1)
    assert disclosure_in_force(disclosed, ended, record, birth, dt.date(2026, 6, 30)) is None
    lapsed = disclosure_in_force(disclosed, ended, record, birth, dt.date(2026, 7, 1))
    assert lapsed is not None and lapsed.code is Refusal.RULE_ENDED


def test_the_admin_page_shows_version_review_status_change_log_and_differences(
    admin_client: FlaskClient,
) -> None:
    page = admin_client.get("/admin/legal-bases")
    assert page.status_code == 200
    for text in ("2026.2", "Ändringslogg", "Att bekräfta", "crime-other-secrecy", "ny"):
        assert text in page.text
    assert "Regelfilen skiljer sig" not in page.text
    chosen = admin_client.get("/admin/legal-bases?from=2026.2&to=2026.1")
    assert chosen.status_code == 200
    assert "borttagen" in chosen.text
    same = admin_client.get("/admin/legal-bases?from=2026.2&to=2026.2")
    assert "Välj två olika versioner." in same.text


@pytest.mark.parametrize("query", ["from=1999.9", "to=%3Cscript%3E", "from=2026.1&to=x"])
def test_an_unknown_version_is_the_400_page(admin_client: FlaskClient, query: str) -> None:
    assert admin_client.get(f"/admin/legal-bases?{query}").status_code == 400


def test_only_administrators_see_the_rules_page(client_for) -> None:  # type: ignore[no-untyped-def]
    from coordination.models import AgencyKind

    assert client_for(AgencyKind.POLICE).get("/admin/legal-bases").status_code == 403
