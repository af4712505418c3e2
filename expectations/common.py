"""Rule factories shared by the suites: mandatory fields from the entry guidelines."""

from __future__ import annotations

from expectations.rules import NotNull, Rule
from schemas.guidelines import MANDATORY


def mandatory(system: str, table: str, key: str, *, office: str | None = None) -> list[Rule]:
    """One not-null rule per mandatory field of a table (schemas/guidelines.py)."""
    guideline = MANDATORY[(system, table)]
    return [
        Rule(
            name=f"{system}.{table}.{column}.mandatory",
            description=f"{table.replace('_', ' ')}: {column.replace('_', ' ')} must be entered",
            system=system,
            table=table,
            key=key,
            field=column,
            check=NotNull(column),
            defect_class="missing_mandatory",
            where=guideline.when,
            office=office,
            correct_entry=f"{column.replace('_', ' ')} filled in"
            + (f" (required when {guideline.when})" if guideline.when else ""),
        )
        for column in guideline.fields
    ]
