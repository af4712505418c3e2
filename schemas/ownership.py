"""Field ownership in two-way mode: for every field an interface carries, the system that owns it.

Declared once, per target table: the owner of most fields (the system whose
record the table copies) and the fields another system owns. In two-way mode
a change to a field that arrives from a system that does not own it is a
conflict (connectors/conflicts.py): queued, never applied silently. The
matrix is rendered into docs/ownership.md (`render_markdown`, with a drift
test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemas.interfaces import Interface, Stream


@dataclass(frozen=True)
class TableOwnership:
    """Who owns the fields of one feed table: a default owner and the exceptions, with why."""

    owner: str
    why: str
    exceptions: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (owner, why)

    def owner_of(self, column: str) -> str:
        return self.exceptions.get(column, (self.owner, ""))[0]


_UCI = ("gcms", "IRCC issues the UCI; GCMS is the client's record")
_ORDER = ("gcms", "the removal order is GCMS's record")

#: (target system, target table) -> ownership of the fields the feeds carry into it.
OWNERSHIP: Final = MappingProxyType(
    {
        ("gcms", "irb_proceeding"): TableOwnership("nova", "NOVA's filing, as NOVA recorded it"),
        ("gcms", "irb_decision"): TableOwnership("nova", "the IRB's decision, as NOVA recorded it"),
        ("ncms", "irb_outcome"): TableOwnership("gcms", "GCMS's record of the IRB decision"),
        ("ncms", "legal_matter"): TableOwnership("gcms", "litigation, appeals, PRRA: GCMS's"),
        ("ncms", "travel_doc_info"): TableOwnership("gcms", "GCMS's travel documents"),
        ("gcms", "warrant"): TableOwnership(
            "ncms", "CBSA issues, executes and cancels warrants in NCMS", {"uci": _UCI}
        ),
        ("gcms", "enforcement_case"): TableOwnership(
            "ncms",
            "triage, review and removal are CBSA's work in NCMS",
            {"uci": _UCI, "order_id": _ORDER},
        ),
        ("gcms", "departure_confirmation"): TableOwnership(
            "ncms",
            "an officer in Canada confirms an R240(3) departure in NCMS",
            {"uci": _UCI, "order_id": _ORDER},
        ),
        ("nova", "scheduling_referral"): TableOwnership(
            "gcms",
            "the Minister's Delegate's referral is GCMS's record",
            {"irb_file_no": ("nova", "the IRB numbers its files")},
        ),
    }
)


def carried_fields(stream: Stream) -> list[str]:
    """The target columns a stream writes (its key left out: a new key is a new record)."""
    names = [*stream.fields, *stream.codes, *stream.constants]
    if stream.derive is not None:
        names += [n for n in stream.derive({}) if n not in names]
    return [n for n in names if n != stream.target_key]


def owner(stream: Stream, column: str) -> str:
    """The system owning a field a stream carries (KeyError: the matrix misses its table)."""
    return OWNERSHIP[(stream.target_system, stream.target_table)].owner_of(column)


def target_owned(stream: Stream) -> list[str]:
    """The carried fields its target owns: a change to them from the source is a conflict."""
    return [c for c in carried_fields(stream) if owner(stream, c) == stream.target_system]


def source_owned(stream: Stream) -> list[str]:
    """The carried fields its source owns: the target's own edit of one is a conflict too."""
    return [c for c in carried_fields(stream) if owner(stream, c) == stream.source_system]


def rows(interfaces: list[Interface]) -> Iterator[tuple[str, str, str, str, str, str]]:
    """(interface, stream, target table, field, owner, why) for every carried field."""
    for interface in interfaces:
        for stream in interface.streams:
            table = OWNERSHIP[(stream.target_system, stream.target_table)]
            for column in carried_fields(stream):
                owner_system, why = table.exceptions.get(column, (table.owner, table.why))
                yield (
                    interface.name,
                    stream.name,
                    f"{stream.target_system}.{stream.target_table}",
                    column,
                    owner_system,
                    why,
                )


def render_markdown(interfaces: list[Interface]) -> str:
    """docs/ownership.md: the matrix, generated (a test keeps the file in step)."""
    lines = [
        "# Field ownership (two-way mode)",
        "",
        "Generated from `schemas/ownership.py` by "
        "`python -m schemas.ownership > docs/ownership.md`; a test fails when they differ.",
        "",
        "Every field an interface carries, in either direction, and the system that owns",
        "it. In two-way mode a change that arrives from a system that does not own the",
        "field is a conflict: written to the control database's conflict queue with the",
        "old value, both new values and who wrote each, never applied silently, and",
        "resolved with `casesync conflicts resolve` (applied by the next night).",
        "",
        "| interface | stream | target table | field | owner | why |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows(interfaces):
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from schemas.two_way import ALL_INTERFACES

    print(render_markdown(list(ALL_INTERFACES.values())), end="")
