"""plain_int: the one way text becomes a whole number before int() sees it."""

from __future__ import annotations

import pytest

from coordination.numbers import MAX_DIGITS, page_count, plain_int


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("7", 7), ("042", 42), ("9" * MAX_DIGITS, int("9" * MAX_DIGITS))],
)
def test_ascii_digits_are_read(text: str, expected: int) -> None:
    assert plain_int(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "\N{SUPERSCRIPT TWO}",  # passes str.isdigit, int() raises
        "1\N{SUPERSCRIPT TWO}",
        "\N{FULLWIDTH DIGIT ONE}",  # int() would read it as 1
        "\N{ARABIC-INDIC DIGIT THREE}",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1\n",
        "1_000",
        "",
        "1.0",
        "0x1",
        "9" * (MAX_DIGITS + 1),
        "9" * 5000,  # past int()'s own limit, where it raises instead of answering
    ],
)
def test_anything_else_is_none(text: str) -> None:
    assert plain_int(text) is None


def test_max_digits_bounds_the_length_leading_zeros_included() -> None:
    assert plain_int("999", max_digits=3) == 999
    assert plain_int("1000", max_digits=3) is None
    assert plain_int("0001", max_digits=3) is None


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (25, 1), (26, 2), (50, 2), (51, 3)])
def test_page_count_no_rows_is_one_empty_page(total: int, pages: int) -> None:
    assert page_count(total, 25) == pages
