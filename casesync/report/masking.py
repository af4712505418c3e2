"""One masking function for the report and the work queue: names and dates of birth.

UCIs, IRB file numbers and case numbers are kept (analysts need them to find
the record); a person's names and date of birth never leave the databases
in clear.
"""

from __future__ import annotations

import re
from typing import Any

#: Columns holding a person's name, in any of the three systems.
NAME_FIELDS = frozenset(
    {
        "family_name",
        "given_names",
        "given_name",
        "surname",
        "subject_surname",
        "subject_given_name",
    }
)
#: Columns holding a date of birth.
BIRTH_FIELDS = frozenset({"birth_on", "date_of_birth"})


def mask(field: str | None, value: Any) -> str:
    """`value` as it may be shown for column `field`: names and birth dates masked."""
    if value is None or value == "":
        return ""
    text = str(value)
    if field in NAME_FIELDS:
        return text[0] + "*" * max(2, len(text) - 1) if text else ""
    if field in BIRTH_FIELDS:
        return "****-**-**"
    return text


def is_personal(field: str | None) -> bool:
    """Whether a column holds a name or a birth date."""
    return field in NAME_FIELDS or field in BIRTH_FIELDS


_QUOTED_PERSONAL = re.compile(
    r"\b(" + "|".join(sorted(NAME_FIELDS | BIRTH_FIELDS)) + r")\b(\s*[=:]?\s*)('[^']*'|\"[^\"]*\")"
)


def mask_text(text: str | None) -> str:
    """A message that may quote a column's value ("birth_on '1985-13-01' is not a date")."""
    if not text:
        return ""
    return _QUOTED_PERSONAL.sub(lambda m: f"{m[1]}{m[2]}'{mask(m[1], m[3][1:-1])}'", text)
