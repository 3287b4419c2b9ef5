"""The rules files (secrecy/rules/*.toml): the shipped set, and what loading refuses."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from coordination.models import AgencyKind
from secrecy.policy.categories import categories
from secrecy.policy.rules import (
    RULES_DIR,
    Duty,
    Review,
    RuleFileError,
    Strength,
    legal_bases,
    parse_legal_bases,
    parse_recipient_protection,
    recipient_protection,
)

CATEGORIES = frozenset(categories())
KINDS = {k.value for k in AgencyKind}

# SECRECY.md section 2, in the order of the table.
SHIPPED = {
    # id: (review, duty, age limit)
    "consent": (Review.CONFIRMED, Duty.MAY, None),
    "internal-use": (Review.CONFIRMED, Duty.MAY, None),
    "sol-police-u21": (Review.CONFIRMED, Duty.MAY, 21),
    "crime-against-child": (Review.CONFIRMED, Duty.MAY, 18),
    "serious-crime": (Review.CONFIRMED, Duty.MAY, None),
    "crime-other-secrecy": (Review.TO_CONFIRM, Duty.MAY, None),
    "care-chain": (Review.CONFIRMED, Duty.MAY, 18),
    "concern-report": (Review.TO_CONFIRM, Duty.MUST, 18),
    "duty-to-police": (Review.TO_CONFIRM, Duty.MUST, None),
    "own-task": (Review.CONFIRMED, Duty.MAY, None),
    "general-clause": (Review.TO_CONFIRM, Duty.MAY, None),
    "principal-report": (Review.TO_CONFIRM, Duty.MUST, None),
    "crime-prevention-2025": (Review.TO_CONFIRM, Duty.MAY, None),
}


# --- the shipped files ---------------------------------------------------------------------------


def test_the_shipped_bases_are_those_of_secrecy_md() -> None:
    bases = legal_bases()
    assert len(bases) == 13
    assert list(bases) == list(SHIPPED)
    for basis_id, (review, duty, age_limit) in SHIPPED.items():
        basis = bases[basis_id]
        assert basis.id == basis_id
        assert (basis.review, basis.duty, basis.age_limit) == (review, duty, age_limit), basis_id
        assert basis.title.strip()
        assert basis.reference.strip()
        assert basis.confirmations


def test_only_the_unconfirmed_new_provisions_ship_disabled() -> None:
    disabled = [b.id for b in legal_bases().values() if not b.enabled]
    assert disabled == ["principal-report", "crime-prevention-2025"]
    assert legal_bases()["crime-prevention-2025"].effective_from == dt.date(2025, 12, 1)


def test_the_shipped_directions_dates_and_limits() -> None:
    bases = legal_bases()
    assert bases["sol-police-u21"].from_kinds == {"social_services", "disability_support"}
    assert bases["sol-police-u21"].to_kinds == {"police"}
    assert bases["sol-police-u21"].effective_from == dt.date(2013, 1, 1)
    care = {"social_services", "disability_support", "healthcare"}
    assert bases["crime-against-child"].from_kinds == care
    assert bases["serious-crime"].from_kinds == care
    assert bases["crime-other-secrecy"].from_kinds == {"school", "leisure", "other"}
    assert bases["crime-other-secrecy"].denied_categories == {"health"}
    assert bases["care-chain"].from_kinds == care
    assert bases["care-chain"].to_kinds == care
    assert not bases["care-chain"].different_kinds
    assert bases["concern-report"].from_kinds == {
        "school", "police", "healthcare", "disability_support", "leisure"
    }  # fmt: skip
    assert bases["concern-report"].to_kinds == {"social_services"}
    assert bases["duty-to-police"].from_kinds == {"school", "leisure", "other"}
    assert bases["duty-to-police"].effective_from == dt.date(2025, 4, 1)
    assert bases["duty-to-police"].denied_categories == {"health"}
    assert bases["duty-to-police"].bound_private_kinds == {"school"}
    assert bases["concern-report"].bound_private_kinds == {
        "school", "healthcare", "disability_support"
    }  # fmt: skip
    assert len(bases["sol-police-u21"].confirmations) == 4
    assert "övervägande skäl" in bases["crime-prevention-2025"].confirmations[1].lower()
    assert bases["general-clause"].from_kinds == {"police", "school", "leisure", "other"}
    assert bases["general-clause"].excluded_owner_kinds == {
        "social_services", "disability_support", "healthcare"
    }  # fmt: skip
    assert bases["general-clause"].denied_categories == {"health"}
    # Weak recipients and consents: the consent basis only.
    assert [b.id for b in bases.values() if b.weak_recipients] == ["consent", "internal-use"]
    assert [b.id for b in bases.values() if b.requires_consent] == ["consent"]
    assert [b.id for b in bases.values() if b.different_kinds] == []
    assert [b.id for b in bases.values() if b.authority_relation == "internal"] == ["internal-use"]
    assert all(b.effective_to is None for b in bases.values())


def test_the_recipient_protection_table_names_every_kind() -> None:
    table = recipient_protection()
    assert set(table) == KINDS
    assert {kind: p.strength for kind, p in table.items()} == {
        "social_services": Strength.STRONG,
        "disability_support": Strength.STRONG,
        "healthcare": Strength.STRONG,
        "school": Strength.PARTIAL,
        "police": Strength.PARTIAL,
        "leisure": Strength.WEAK,
        "other": Strength.WEAK,
    }
    assert table["healthcare"].provision == "25 kap. 1 § OSL"
    assert table["leisure"].provision == ""


def test_the_shipped_rules_need_the_shipped_categories() -> None:
    text = (RULES_DIR / "legal_bases.toml").read_text(encoding="utf-8")
    with pytest.raises(
        RuleFileError, match=re.escape("rule #6 (crime-other-secrecy): field 'denied")
    ):
        parse_legal_bases(text, CATEGORIES - {"health"})


# --- parse_legal_bases refuses malformed rules ---------------------------------------------------

DROP = object()  # leave the field out


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | dt.date):
        return value.isoformat() if isinstance(value, dt.date) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def rule(**changes: Any) -> str:
    fields: dict[str, Any] = {
        "id": "test-rule",
        "title": "Testregel",
        "reference": "1 kap. 1 § testlagen",
        "from_kinds": ["school"],
        "to_kinds": ["*"],
        "confirmations": ["Det är bekräftat."],
        "duty": "may",
        "review": "confirmed",
        "enabled": True,
    }
    fields.update(changes)
    lines = [f"{name} = {toml_value(v)}" for name, v in fields.items() if v is not DROP]
    return "[[basis]]\n" + "\n".join(lines) + "\n"


def test_the_minimal_rule_loads_with_its_defaults() -> None:
    (basis,) = parse_legal_bases(rule(), CATEGORIES).values()
    assert basis.id == "test-rule"
    assert basis.from_kinds == {"school"}
    assert basis.to_kinds == {"*"}
    assert basis.allows_to("police")
    assert basis.allows_from("school")
    assert not basis.allows_from("police")
    assert (basis.duty, basis.review, basis.enabled) == (Duty.MAY, Review.CONFIRMED, True)
    assert basis.age_limit is None
    assert basis.allowed_categories is None
    assert basis.denied_categories == frozenset()
    assert basis.excluded_owner_kinds == frozenset()
    assert not (basis.different_kinds or basis.weak_recipients or basis.requires_consent)
    assert basis.effective_from is None
    assert basis.effective_to is None
    assert basis.note == ""


def test_every_optional_field_loads() -> None:
    text = rule(
        different_kinds=True,
        age_limit=29,
        allowed_categories=["school", "leisure"],
        denied_categories=["health"],
        excluded_owner_kinds=["healthcare"],
        weak_recipients=True,
        requires_consent=True,
        effective_from=dt.date(2025, 1, 1),
        effective_to=dt.date(2025, 1, 1),  # one day only: allowed
        note="Anteckning.",
        duty="must",
        review="to_confirm",
        enabled=False,
    )
    basis = parse_legal_bases(text, CATEGORIES)["test-rule"]
    assert basis.different_kinds and basis.weak_recipients and basis.requires_consent
    assert basis.age_limit == 29
    assert basis.allowed_categories == {"school", "leisure"}
    assert basis.denied_categories == {"health"}
    assert basis.excluded_owner_kinds == {"healthcare"}
    assert basis.effective_from == basis.effective_to == dt.date(2025, 1, 1)
    assert (basis.duty, basis.review, basis.enabled) == (Duty.MUST, Review.TO_CONFIRM, False)
    assert basis.note == "Anteckning."


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        pytest.param({"colour": "blue"}, "colour", "is not a known field", id="unknown field"),
        pytest.param({"title": DROP}, "title", "must be a non-empty text", id="missing title"),
        pytest.param({"title": "  "}, "title", "must be a non-empty text", id="blank title"),
        pytest.param({"reference": 12}, "reference", "must be a non-empty text",
                     id="reference not a text"),
        pytest.param({"note": 1}, "note", "must be a text", id="note not a text"),
        pytest.param({"from_kinds": ["prosecutor"]}, "from_kinds",
                     "names unknown agency kinds ['prosecutor']", id="unknown kind in from_kinds"),
        pytest.param({"to_kinds": ["police", "court"]}, "to_kinds",
                     "names unknown agency kinds ['court']", id="unknown kind in to_kinds"),
        pytest.param({"excluded_owner_kinds": ["church"]}, "excluded_owner_kinds",
                     "names unknown agency kinds ['church']", id="unknown excluded owner kind"),
        pytest.param({"from_kinds": []}, "from_kinds", "must name at least one agency kind",
                     id="no from_kinds"),
        pytest.param({"to_kinds": DROP}, "to_kinds", "must be a list of texts",
                     id="missing to_kinds"),
        pytest.param({"to_kinds": "police"}, "to_kinds", "must be a list of texts",
                     id="to_kinds not a list"),
        pytest.param({"allowed_categories": ["horoscope"]}, "allowed_categories",
                     "names unknown categories ['horoscope']", id="unknown allowed category"),
        pytest.param({"denied_categories": ["health", "gossip"]}, "denied_categories",
                     "names unknown categories ['gossip']", id="unknown denied category"),
        pytest.param({"age_limit": 0}, "age_limit", "must be a whole number of years",
                     id="age_limit 0"),
        pytest.param({"age_limit": 30}, "age_limit", "must be a whole number of years",
                     id="age_limit 30"),
        pytest.param({"age_limit": -18}, "age_limit", "must be a whole number of years",
                     id="age_limit negative"),
        pytest.param({"age_limit": "18"}, "age_limit", "must be a whole number of years",
                     id="age_limit a text"),
        pytest.param({"age_limit": 17.5}, "age_limit", "must be a whole number of years",
                     id="age_limit a fraction"),
        pytest.param({"age_limit": True}, "age_limit", "must be a whole number of years",
                     id="age_limit a boolean"),
        pytest.param({"duty": "shall"}, "duty", "must be one of may, must", id="bad duty"),
        pytest.param({"duty": DROP}, "duty", "must be one of may, must", id="missing duty"),
        pytest.param({"review": "checked"}, "review", "must be one of confirmed, to_confirm",
                     id="bad review"),
        pytest.param({"review": True}, "review", "must be one of confirmed, to_confirm",
                     id="review a boolean"),
        pytest.param({"enabled": "yes"}, "enabled", "must be true or false", id="bad enabled"),
        pytest.param({"enabled": DROP}, "enabled", "must be true or false",
                     id="missing enabled"),
        pytest.param({"weak_recipients": 1}, "weak_recipients", "must be true or false",
                     id="bad weak_recipients"),
        pytest.param({"effective_from": "2025-04-01"}, "effective_from",
                     "must be a date such as 2025-04-01", id="effective_from a text"),
        pytest.param({"effective_to": dt.datetime(2025, 4, 1, 12, 0)}, "effective_to",  # noqa: DTZ001
                     "must be a date such as 2025-04-01", id="effective_to a date-time"),
        pytest.param({"effective_from": dt.date(2025, 4, 1), "effective_to": dt.date(2025, 3, 31)},
                     "effective_to", "is before effective_from",
                     id="effective_to before effective_from"),
        pytest.param({"confirmations": []}, "confirmations",
                     "must list at least one statement to confirm", id="empty confirmations"),
        pytest.param({"confirmations": ["Bekräftat.", ""]}, "confirmations",
                     "must be a list of texts", id="blank confirmation"),
        pytest.param({"confirmations": DROP}, "confirmations", "must be a list of texts",
                     id="missing confirmations"),
    ],
)  # fmt: skip
def test_a_malformed_rule_is_refused_naming_the_rule_and_the_field(
    changes: dict[str, Any], field: str, problem: str
) -> None:
    text = rule(id="first-rule") + rule(**changes)
    expected = f"rule #2 (test-rule): field {field!r} {problem}"
    with pytest.raises(RuleFileError, match=re.escape(expected)):
        parse_legal_bases(text, CATEGORIES)


def test_a_duplicate_id_is_refused() -> None:
    text = rule(id="a") + rule(id="b") + rule(id="a", title="En annan")
    with pytest.raises(RuleFileError, match=re.escape("rule #3 (a): field 'id' is used by")):
        parse_legal_bases(text, CATEGORIES)


def test_a_rule_without_an_id_is_refused() -> None:
    with pytest.raises(RuleFileError, match=re.escape("rule #1 (?): field 'id' must be a")):
        parse_legal_bases(rule(id=DROP), CATEGORIES)


def test_invalid_toml_is_refused() -> None:
    with pytest.raises(RuleFileError, match=re.escape("legal_bases.toml is not valid TOML")):
        parse_legal_bases(rule() + "title = 'twice'\n", CATEGORIES)
    with pytest.raises(RuleFileError, match=re.escape("legal_bases.toml is not valid TOML")):
        parse_legal_bases("[[basis]\nid = 'x'\n", CATEGORIES)


def test_a_file_without_rules_is_refused() -> None:
    with pytest.raises(RuleFileError, match=re.escape("legal_bases.toml defines no rules")):
        parse_legal_bases("# nothing yet\n", CATEGORIES)


# --- parse_recipient_protection ------------------------------------------------------------------


def protection(*skip: str, **changes: dict[str, Any]) -> str:
    entries = []
    for kind in sorted(KINDS):
        if kind in skip:
            continue
        entry: dict[str, Any] = {"kind": kind, "provision": "", "strength": "weak", "note": ""}
        entry.update(changes.get(kind, {}))
        lines = [f"{k} = {toml_value(v)}" for k, v in entry.items() if v is not DROP]
        entries.append("[[kind]]\n" + "\n".join(lines) + "\n")
    return "\n".join(entries)


def test_a_complete_protection_table_loads() -> None:
    table = parse_recipient_protection(protection(police={"strength": "partial"}))
    assert set(table) == KINDS
    assert table["police"].strength is Strength.PARTIAL
    assert table["school"].strength is Strength.WEAK


def test_the_protection_table_refuses_an_unknown_kind() -> None:
    text = protection() + '[[kind]]\nkind = "prosecutor"\nstrength = "strong"\n'
    with pytest.raises(
        RuleFileError, match=re.escape("kind #8 (prosecutor): field 'kind' is not an agency kind")
    ):
        parse_recipient_protection(text)


def test_the_protection_table_refuses_a_bad_strength() -> None:
    with pytest.raises(
        RuleFileError,
        match=re.escape("(police): field 'strength' must be one of strong, partial, weak"),
    ):
        parse_recipient_protection(protection(police={"strength": "medium"}))


def test_the_protection_table_refuses_a_missing_kind() -> None:
    with pytest.raises(RuleFileError, match=re.escape("lacks the kinds ['leisure', 'other']")):
        parse_recipient_protection(protection("leisure", "other"))


def test_the_protection_table_refuses_an_entry_without_its_kind() -> None:
    with pytest.raises(RuleFileError, match=re.escape("(?): field 'kind' must be a non-empty")):
        parse_recipient_protection(protection(police={"kind": DROP}))


# --- the rule-set version ------------------------------------------------------------------------


def test_the_shipped_file_has_a_version_with_a_change_log_entry() -> None:
    from secrecy.policy.rules import parse_rule_set_version, ruleset_version

    text = (RULES_DIR / "legal_bases.toml").read_text(encoding="utf-8")
    version, log = parse_rule_set_version(text)
    assert ruleset_version() == version
    assert version in {entry.version for entry in log}
    assert [e.date for e in log] == sorted((e.date for e in log), reverse=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "[ruleset]: field 'version' must be a non-empty text"),
        ("[ruleset]\nversion = '2026.9'\n", "field 'version' has no [[changelog]] entry"),
        ("[ruleset]\nversion = '" + "9" * 21 + "'\n", "must be at most 20 characters"),
        (
            "[ruleset]\nversion = '1'\n[[changelog]]\nversion = '1'\nchanges = ['x']\n",
            "changelog #1 (1): field 'date' must be a date",
        ),
        ("[ruleset\n", "legal_bases.toml is not valid TOML"),
    ],
)
def test_a_rule_set_version_without_its_change_log_is_refused(text: str, message: str) -> None:
    from secrecy.policy.rules import parse_rule_set_version

    with pytest.raises(RuleFileError, match=re.escape(message)):
        parse_rule_set_version(text)


def test_the_2026_2_fields_load() -> None:
    text = rule(
        public_owners_only=True,
        bound_private_kinds=["school"],
        authority_relation="internal",
        requires_statement=True,
        statement_label="Varför?",
    )
    basis = parse_legal_bases(text, CATEGORIES)["test-rule"]
    assert basis.bound_private_kinds == {"school"}
    assert basis.authority_relation == "internal"
    assert (basis.requires_statement, basis.statement_label) == (True, "Varför?")
    default = parse_legal_bases(rule(), CATEGORIES)["test-rule"]
    assert default.authority_relation == "separate"
    assert not default.requires_statement


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"bound_private_kinds": ["school"]},
            "field 'bound_private_kinds' needs public_owners_only",
        ),
        ({"public_owners_only": True, "bound_private_kinds": ["church"]}, "unknown agency kinds"),
        ({"requires_statement": True}, "field 'statement_label' must say what"),
        ({"authority_relation": "nearby"}, "field 'authority_relation' must be one of"),
    ],
)
def test_the_2026_2_fields_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleFileError, match=re.escape(message)):
        parse_legal_bases(rule(**changes), CATEGORIES)
