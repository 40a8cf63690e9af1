"""Minew BLE gateways (G1, MG3 and the like), "JSON-LONG" upload over MQTT or HTTP POST.

Default MQTT topic ``/gw/<gateway_mac>/status``; the payload is a JSON array of everything the
gateway heard since the last upload, led by the gateway's own entry::

    [{"timestamp": "2025-11-22T06:40:00.120Z", "type": "Gateway", "mac": "AC233FC04411",
      "gatewayFree": 94, "gatewayLoad": 0.31},
     {"timestamp": "2025-11-22T06:39:59.870Z", "type": "iBeacon", "mac": "AC233F2A01B7",
      "bleName": "", "ibeaconUuid": "...", "ibeaconMajor": 1, "ibeaconMinor": 42,
      "rssi": -67, "ibeaconTxPower": -59, "battery": 0}, ...]

Every entry but the gateway's own is one item: an RSSI measurement with ``anchor`` = the gateway
MAC and ``tag`` = the entry's MAC (both upper case with colons, as the Ruuvi decoder writes
them), ``ts`` = its ``timestamp`` (RFC 3339). A ``battery`` of 1..100 also gives a tag status
(Minew sends 0 when the frame type carries no battery level, so 0 is taken as "not reported").
The gateway MAC comes from the ``Gateway`` entry, else from the topic.
"""

from __future__ import annotations

from typing import Any, Final

from minepos.ingest.decoders._fields import json_type, read_id, read_number, read_ts
from minepos.ingest.decoders.base import JsonDecoder
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError
from minepos.measurement import Measurement

__all__ = ["MinewGatewayDecoder", "normalise_mac"]

_HEX: Final = frozenset("0123456789ABCDEF")
_MAC_DIGITS: Final = 12


def normalise_mac(value: object, name: str) -> str:
    """``AC233F2A01B7``, ``ac:23:3f:2a:01:b7`` or ``AC-23-...`` -> ``AC:23:3F:2A:01:B7``."""
    digits = read_id(value, name).upper().replace(":", "").replace("-", "")
    if len(digits) != _MAC_DIGITS or not set(digits) <= _HEX:
        raise FieldError("malformed", f"{name}: {value!r:.40} is not a MAC address")
    return ":".join(digits[i : i + 2] for i in range(0, _MAC_DIGITS, 2))


def _gateway_mac(entries: list[Any], topic: str | None) -> str:
    for entry in entries:
        if type(entry) is dict and entry.get("type") == "Gateway":
            return normalise_mac(entry.get("mac"), "Gateway entry mac")
    levels = [p for p in (topic or "").split("/") if p]
    if len(levels) >= 2 and levels[0] == "gw":
        return normalise_mac(levels[1], "gateway MAC in topic")
    raise FieldError("malformed", "no Gateway entry and no /gw/<mac>/... topic: gateway unknown")


def _entry(entry: object, gateway: str) -> list[Measurement]:
    if type(entry) is not dict:
        raise FieldError("malformed", f"expected an object, got {json_type(entry)}")
    tag = normalise_mac(entry.get("mac"), "mac")
    ts = read_ts(entry.get("timestamp"), "timestamp")
    out = [
        Measurement(ts=ts, tag=tag, anchor=gateway, rssi_dbm=read_number(entry.get("rssi"), "rssi"))
    ]
    battery = entry.get("battery")
    if battery is not None and read_number(battery, "battery") != 0:
        out.append(Measurement(ts=ts, tag=tag, battery_pct=read_number(battery, "battery")))
    return out


class MinewGatewayDecoder(JsonDecoder):
    """Minew gateway JSON-LONG: one upload, many tags."""

    name = "minew"

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """One item per heard device; the gateway's own status entry is skipped."""
        if type(data) is dict:
            data = [data]
        if type(data) is not list:
            raise FieldError("malformed", f"expected an array of entries, got {json_type(data)}")
        gateway = _gateway_mac(data, ctx.topic)
        result = DecodeResult(gateway=gateway)
        for index, entry in enumerate(data):
            if type(entry) is dict and entry.get("type") == "Gateway":
                continue
            try:
                for m in _entry(entry, gateway):
                    result.add(index, m)
            except FieldError as exc:
                result.reject(index, exc.code, exc.reason)
        return result
