"""The canonical minepos format (CONTRACT sections 2 and 3): one measurement, a batch or an array.

Topic: ``minepos/<mine>/ingest/<gateway>`` (MQTT), the HTTP ingest call and UDP datagrams.
Each item is checked for structure and types here; meaning (known ids, sane values, clock skew)
is the validator's job.
"""

from __future__ import annotations

from typing import Any, Final

from minepos.ingest.decoders._fields import (
    json_type,
    read_bool,
    read_id,
    read_number,
    read_ts,
    read_xyz,
)
from minepos.ingest.decoders.base import JsonDecoder
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError
from minepos.measurement import Measurement

__all__ = ["CanonicalDecoder", "measurement_from_json"]

_FIELDS: Final = frozenset(
    {"ts", "tag", "anchor", "range_m", "rssi_dbm", "event", "motion", "battery_pct", "xyz"}
)
_BATCH_FIELDS: Final = frozenset({"gateway", "measurements"})


def measurement_from_json(obj: object) -> Measurement:
    """A `Measurement` from one canonical JSON object; `FieldError` names the problem."""
    if type(obj) is not dict:
        raise FieldError("malformed", f"expected a measurement object, got {json_type(obj)}")
    if not obj.keys() <= _FIELDS:
        extra = sorted(str(k) for k in obj.keys() - _FIELDS)
        raise FieldError("unknown_field", f"unknown field(s): {', '.join(extra[:5])}"[:200])
    get = obj.get
    anchor = get("anchor")
    range_m = get("range_m")
    rssi = get("rssi_dbm")
    event = get("event")
    motion = get("motion")
    battery = get("battery_pct")
    xyz = get("xyz")
    if event is not None and type(event) is not str:
        raise FieldError("malformed", f"event: expected a string, got {json_type(event)}")
    ts = get("ts")
    # Fast paths for the common case; anything else goes through the strict readers. Floats from
    # orjson are always finite, and the validator checks finiteness and ranges again.
    return Measurement(
        ts=ts if type(ts) is float else read_ts(ts),
        tag=read_id(get("tag"), "tag"),
        anchor=None if anchor is None else read_id(anchor, "anchor"),
        range_m=range_m
        if type(range_m) is float or range_m is None
        else read_number(range_m, "range_m"),
        rssi_dbm=rssi if type(rssi) is float or rssi is None else read_number(rssi, "rssi_dbm"),
        event=event,
        motion=None if motion is None else read_bool(motion, "motion"),
        battery_pct=None if battery is None else read_number(battery, "battery_pct"),
        xyz=None if xyz is None else read_xyz(xyz),
    )


class CanonicalDecoder(JsonDecoder):
    """Canonical JSON: `{"gateway": .., "measurements": [..]}`, `[..]` or a single object."""

    name = "canonical"

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """Split the payload into items and decode each one on its own."""
        result = DecodeResult()
        if type(data) is dict and "measurements" in data:
            items = self._batch_items(data, result)
        elif type(data) is list:
            items = data
        elif type(data) is dict:
            items = [data]
        else:
            raise FieldError(
                "malformed", f"expected a batch, an array or a measurement, got {json_type(data)}"
            )
        for index, obj in enumerate(items):
            try:
                result.add(index, measurement_from_json(obj))
            except FieldError as exc:
                result.reject(index, exc.code, exc.reason)
        return result

    @staticmethod
    def _batch_items(data: dict[str, Any], result: DecodeResult) -> list[Any]:
        if not data.keys() <= _BATCH_FIELDS:
            extra = sorted(str(k) for k in data.keys() - _BATCH_FIELDS)
            raise FieldError(
                "unknown_field", f"batch: unknown field(s): {', '.join(extra[:5])}"[:200]
            )
        gateway = data.get("gateway")
        if gateway is not None:
            result.gateway = read_id(gateway, "gateway")
        items = data["measurements"]
        if type(items) is not list:
            raise FieldError(
                "malformed", f"measurements: expected an array, got {json_type(items)}"
            )
        return items
