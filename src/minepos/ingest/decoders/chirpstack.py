"""ChirpStack v4 LoRaWAN network server: ``event/up`` uplinks of tags that report over LoRa.

MQTT topic ``application/<application_id>/device/<dev_eui>/event/up`` (JSON marshaler), or the
same JSON from the HTTP integration (no topic). Mapping, one item per receiving gateway and one
for the decoded payload:

- ``deviceInfo.devEui`` (lower-case hex) is the tag id;
- ``time`` (RFC 3339) is ``ts``; without it the first ``rxInfo[].nsTime``, else the receive time;
- each ``rxInfo[i]`` gives an RSSI measurement: ``anchor = gatewayId``, ``rssi_dbm = rssi``
  (item ``i``; the LoRa gateways underground are coarse anchors);
- ``object``, the output of the device profile's codec, may hold ``event`` (``sos``, ``fall``, ...),
  ``battery_pct`` and ``motion``; they become an event and a tag status (item ``len(rxInfo)``).
  Other keys of ``object`` (temperature and the like) are ignored.
"""

from __future__ import annotations

from typing import Any, Final

from minepos.ingest.decoders._fields import (
    json_type,
    read_bool,
    read_id,
    read_number,
    read_ts,
)
from minepos.ingest.decoders.base import JsonDecoder
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError
from minepos.measurement import Measurement

__all__ = ["ChirpStackUplinkDecoder"]

_EUI_HEX: Final = 16


def _eui(value: object, name: str) -> str:
    eui = read_id(value, name).lower()
    if len(eui) != _EUI_HEX or not all(c in "0123456789abcdef" for c in eui):
        raise FieldError("malformed", f"{name}: {eui!r:.40} is not a 64-bit EUI in hex")
    return eui


class ChirpStackUplinkDecoder(JsonDecoder):
    """ChirpStack v4 ``UplinkEvent`` JSON."""

    name = "chirpstack"

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """RSSI per receiving gateway, plus the codec's event and status."""
        if ctx.topic is not None and not ctx.topic.endswith("/event/up"):
            raise FieldError(
                "wrong_topic", f"topic {ctx.topic!r:.120} is not a ChirpStack event/up"
            )
        if type(data) is not dict:
            raise FieldError("malformed", f"expected an uplink event object, got {json_type(data)}")
        info = data.get("deviceInfo")
        if type(info) is not dict:
            raise FieldError("malformed", f"deviceInfo: expected an object, got {json_type(info)}")
        tag = _eui(info.get("devEui"), "deviceInfo.devEui")
        rx_info = data.get("rxInfo", [])
        if type(rx_info) is not list:
            raise FieldError("malformed", f"rxInfo: expected an array, got {json_type(rx_info)}")
        ts = _uplink_time(data, rx_info, ctx.received_at)
        result = DecodeResult()
        for index, rx in enumerate(rx_info):
            try:
                result.add(index, _reception(rx, ts, tag))
            except FieldError as exc:
                result.reject(index, exc.code, exc.reason)
        obj = data.get("object")
        if obj is not None:
            try:
                for m in _codec_object(obj, ts, tag):
                    result.add(len(rx_info), m)
            except FieldError as exc:
                result.reject(len(rx_info), exc.code, exc.reason)
        if not result.measurements and not result.rejects:
            result.reject(
                None, "empty", "uplink has no rxInfo and no codec object: nothing measured"
            )
        return result


def _uplink_time(data: dict[str, Any], rx_info: list[Any], received_at: float) -> float:
    if data.get("time") is not None:
        return read_ts(data["time"], "time")
    first = rx_info[0] if rx_info else None
    if type(first) is dict and first.get("nsTime") is not None:
        return read_ts(first["nsTime"], "rxInfo[0].nsTime")
    return received_at


def _reception(rx: object, ts: float, tag: str) -> Measurement:
    if type(rx) is not dict:
        raise FieldError("malformed", f"rxInfo item: expected an object, got {json_type(rx)}")
    gateway = _eui(rx.get("gatewayId"), "rxInfo.gatewayId")
    return Measurement(
        ts=ts, tag=tag, anchor=gateway, rssi_dbm=read_number(rx.get("rssi"), "rxInfo.rssi")
    )


def _codec_object(obj: object, ts: float, tag: str) -> list[Measurement]:
    if type(obj) is not dict:
        raise FieldError("malformed", f"object: expected an object, got {json_type(obj)}")
    out: list[Measurement] = []
    event = obj.get("event")
    if event is not None:
        if type(event) is not str:
            raise FieldError(
                "malformed", f"object.event: expected a string, got {json_type(event)}"
            )
        out.append(Measurement(ts=ts, tag=tag, event=event))
    battery = obj.get("battery_pct")
    motion = obj.get("motion")
    if battery is not None or motion is not None:
        out.append(
            Measurement(
                ts=ts,
                tag=tag,
                battery_pct=None if battery is None else read_number(battery, "object.battery_pct"),
                motion=None if motion is None else read_bool(motion, "object.motion"),
            )
        )
    return out
