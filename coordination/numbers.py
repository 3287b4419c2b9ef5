"""Whole numbers read from text people or clients typed, and the arithmetic of paged lists.

No Flask here: query modules, services, CLI commands and pages all read numbers the same way.
"""

from __future__ import annotations

# Eighteen digits always fit a signed 64-bit integer (a BIGINT id), and keep int() far from
# its limit of 4,300 digits, past which it raises instead of answering.
MAX_DIGITS = 18


def plain_int(text: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as an int when it is one to ``max_digits`` ASCII digits, else None.

    ``str.isdigit`` and ``int()`` accept far more than a number typed as digits: a superscript
    "²" passes ``isdigit`` and makes ``int()`` raise, full-width "１" and other scripts' digits
    parse, and so do a sign, surrounding white space and underscores ("1_000"). None of them
    is taken here; a caller that allows a sign or white space strips it first.
    """
    if not 1 <= len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def page_count(total: int, page_size: int) -> int:
    """How many pages ``total`` rows fill at ``page_size`` a page; no rows is one empty page."""
    return max((total + page_size - 1) // page_size, 1)
