"""The canonical measurement (CONTRACT section 2): what every source produces and the engine eats.

Decoding and validation of outside payloads live in `minepos.ingest`; this module only holds the
value type and its JSON form so that the simulator, ingest and the engine share one definition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final

__all__ = [
    "EVENTS",
    "Measurement",
    "read_jsonl",
    "write_jsonl",
]

#: Events a tag or the lamp room may report (CONTRACT section 2; `evac_ack` from emergency mode).
EVENTS: Final = frozenset({"sos", "sos_cancel", "fall", "lamp_out", "lamp_in", "evac_ack"})


@dataclass(frozen=True, slots=True)
class Measurement:
    """One thing an anchor heard or a tag reported.

    ``anchor`` with ``range_m`` is a UWB range, with ``rssi_dbm`` an RSSI reading, with neither a
    presence detection. Without ``anchor`` it is a tag status (``motion``, ``battery_pct``), an
    ``event``, or a position fix (``xyz``) from a gateway that computes positions itself.
    """

    ts: float
    tag: str
    anchor: str | None = None
    range_m: float | None = None
    rssi_dbm: float | None = None
    event: str | None = None
    motion: bool | None = None
    battery_pct: float | None = None
    #: a position fix already computed by an RTLS gateway, in the mine's survey frame (extension)
    xyz: tuple[float, float, float] | None = None

    @property
    def is_presence(self) -> bool:
        """True for a detection without range or RSSI."""
        return self.anchor is not None and self.range_m is None and self.rssi_dbm is None

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON object, without the fields that are not set."""
        out: dict[str, Any] = {"ts": self.ts}
        if self.anchor is not None:
            out["anchor"] = self.anchor
        out["tag"] = self.tag
        for key in ("range_m", "rssi_dbm", "event", "motion", "battery_pct"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.xyz is not None:
            out["xyz"] = list(self.xyz)
        return out

    def to_json(self) -> str:
        """One compact JSON line."""
        return json.dumps(self.to_dict(), separators=(",", ":"))


def write_jsonl(measurements: Iterable[Measurement], out: IO[str]) -> int:
    """Write one measurement per line; return how many were written."""
    n = 0
    for m in measurements:
        out.write(m.to_json())
        out.write("\n")
        n += 1
    return n


def read_jsonl(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Yield the raw JSON objects of a measurements file, skipping blank lines.

    Validation is the ingest decoders' job; this only splits lines.
    """
    for line in lines:
        stripped = line.strip()
        if stripped:
            yield json.loads(stripped)
