"""Immutable batch files: what an interface transmitted for one night, with its manifest.

A batch is a directory `<batch_dir>/<interface>/<night>/` holding one Parquet
file per stream (the records as extracted, dates as the source wrote them)
and `manifest.json`: interface, night, interval, schema version, per-stream
record counts and SHA-256 checksums, and a checksum over all of it. It is
written to a temporary directory and renamed into place, then made read-only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.errors import BatchIntegrityError

if TYPE_CHECKING:
    from pathlib import Path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StreamFile:
    name: str
    file: str
    records: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a batch claims to hold; verified before anything is applied."""

    interface: str
    night: dt.date
    interval_start: dt.datetime
    interval_end: dt.datetime
    schema_version: int
    streams: tuple[StreamFile, ...]
    #: The night's batch number (1: its own; later: late entries and corrections).
    sequence: int = 1
    #: The source's change epoch the extraction read through (None before change capture).
    through_epoch: int | None = None

    @property
    def record_count(self) -> int:
        return sum(s.records for s in self.streams)

    @property
    def checksum(self) -> str:
        """SHA-256 over the manifest's content (everything but the checksum itself)."""
        return hashlib.sha256(json.dumps(self._body(), sort_keys=True).encode()).hexdigest()

    def _body(self) -> dict[str, Any]:
        return {
            "interface": self.interface,
            "night": self.night.isoformat(),
            "interval_start": self.interval_start.isoformat(),
            "interval_end": self.interval_end.isoformat(),
            "schema_version": self.schema_version,
            "streams": [
                {"name": s.name, "file": s.file, "records": s.records, "sha256": s.sha256}
                for s in self.streams
            ],
            # written only when set, so batches from before change capture still verify
            **({"sequence": self.sequence} if self.sequence != 1 else {}),
            **({"through_epoch": self.through_epoch} if self.through_epoch is not None else {}),
        }

    def to_json(self) -> str:
        body = self._body()
        body["record_count"] = self.record_count
        body["checksum"] = self.checksum
        return json.dumps(body, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        body = json.loads(text)
        return cls(
            interface=body["interface"],
            night=dt.date.fromisoformat(body["night"]),
            interval_start=dt.datetime.fromisoformat(body["interval_start"]),
            interval_end=dt.datetime.fromisoformat(body["interval_end"]),
            schema_version=int(body["schema_version"]),
            streams=tuple(StreamFile(**s) for s in body["streams"]),
            sequence=int(body.get("sequence", 1)),
            through_epoch=body.get("through_epoch"),
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def batch_path(root: Path, interface: str, night: dt.date, sequence: int = 1) -> Path:
    """`<root>/<interface>/<night>/` for a night's first batch, `<night>.<n>/` for the n-th."""
    name = night.isoformat() if sequence == 1 else f"{night.isoformat()}.{sequence}"
    return root / interface / name


def write(
    root: Path,
    interface: str,
    night: dt.date,
    interval: tuple[dt.datetime, dt.datetime],
    schema_version: int,
    tables: dict[str, pa.Table],
    *,
    sequence: int = 1,
    through_epoch: int | None = None,
) -> tuple[Path, Manifest]:
    """Write a batch atomically (temporary directory, then rename) and make it read-only.

    The caller has checked that no batch of that name is recorded: a directory
    already there is what a killed run left before recording it, and is
    replaced (nothing refers to it, and it may hold fewer changes than now).
    """
    final = batch_path(root, interface, night, sequence)
    temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    streams = []
    for name, table in tables.items():
        filename = f"{name}.parquet"
        pq.write_table(table, temporary / filename, compression="zstd")
        streams.append(
            StreamFile(name, filename, table.num_rows, file_sha256(temporary / filename))
        )
    manifest = Manifest(
        interface, night, interval[0], interval[1], schema_version, tuple(streams),
        sequence=sequence, through_epoch=through_epoch,
    )  # fmt: skip
    (temporary / MANIFEST).write_text(manifest.to_json())
    for item in temporary.iterdir():
        item.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    if final.exists():  # an unrecorded batch of a killed run: this extraction replaces it
        shutil.rmtree(final)
    temporary.rename(final)
    return final, manifest


def read_manifest(path: Path) -> Manifest:
    manifest_file = path / MANIFEST
    try:
        return Manifest.from_json(manifest_file.read_text())
    except FileNotFoundError:
        raise BatchIntegrityError(f"batch {path}: {MANIFEST} is missing; nothing applied") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BatchIntegrityError(
            f"batch {manifest_file}: unreadable manifest ({exc}); nothing applied"
        ) from None


def verify(path: Path, expected_checksum: str | None = None) -> Manifest:
    """Check every file against the manifest (and the manifest against the control record)."""
    manifest = read_manifest(path)
    if expected_checksum is not None and manifest.checksum != expected_checksum:
        raise BatchIntegrityError(
            f"batch {path / MANIFEST}: manifest checksum {manifest.checksum[:12]} does not match "
            f"the recorded {expected_checksum[:12]}; nothing applied"
        )
    for stream in manifest.streams:
        file = path / stream.file
        if not file.exists():
            raise BatchIntegrityError(f"batch file {file} is missing; nothing applied")
        actual = file_sha256(file)
        if actual != stream.sha256:
            raise BatchIntegrityError(
                f"batch file {file}: checksum {actual[:12]} does not match the manifest's "
                f"{stream.sha256[:12]}; nothing applied"
            )
        rows = pq.read_metadata(file).num_rows
        if rows != stream.records:
            raise BatchIntegrityError(
                f"batch file {file}: holds {rows} records, the manifest says {stream.records}; "
                "nothing applied"
            )
    return manifest


def read(path: Path, manifest: Manifest) -> dict[str, pa.Table]:
    """The verified batch's records, per stream."""
    return {s.name: pq.ParquetFile(path / s.file).read() for s in manifest.streams}
