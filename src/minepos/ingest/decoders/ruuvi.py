"""Ruuvi Gateway (BLE): RSSI of each tag heard, over MQTT or HTTP(S) POST.

MQTT topic ``ruuvi/<gw_mac>/<tag_mac>``, one tag per message::

    {"gw_mac": "C8:25:2D:8E:9C:2C", "rssi": -71, "aoa": [], "gwts": "1653633988",
     "ts": "1653633986", "data": "0201061BFF9904...", "coords": ""}

HTTP POST, all tags heard since the last post::

    {"data": {"coordinates": "", "timestamp": "1653633988", "nonce": "2636366621",
              "gw_mac": "C8:25:2D:8E:9C:2C",
              "tags": {"C6:A5:B9:E0:AD:06":
                       {"rssi": -71, "timestamp": "1653633986", "data": "..."}}}}

Each tag reading becomes an RSSI measurement with ``anchor = gw_mac`` (the gateway is the BLE
anchor) and ``tag = <tag MAC>`` (upper case, colons). Times are Unix seconds, as numbers or strings.
If the advertisement is Ruuvi data format 5 (RAWv2), its battery voltage also gives a tag status
with ``battery_pct`` (2.0 V = 0 %, 3.0 V = 100 %, linear: a CR2477 lithium cell).
"""

from __future__ import annotations

import binascii
from typing import Any, Final

from minepos.ingest.decoders._fields import json_type, read_id, read_number, unix_seconds
from minepos.ingest.decoders.base import JsonDecoder
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError
from minepos.measurement import Measurement

__all__ = ["RuuviGatewayDecoder", "battery_pct_from_advertisement"]

_RUUVI_COMPANY: Final = b"\x99\x04"  # 0x0499, little endian
_DF5: Final = 5
_DF5_LEN: Final = 24  # format byte + 23 bytes of data
_EMPTY_MV: Final = 2000.0
_FULL_MV: Final = 3000.0
_MAX_HEX: Final = 128


def _mac(value: object, name: str) -> str:
    mac = read_id(value, name).upper().replace("-", ":")
    parts = mac.split(":")
    if len(parts) != 6 or any(len(p) != 2 or not _is_hex(p) for p in parts):
        raise FieldError("malformed", f"{name}: {mac!r:.40} is not a MAC address")
    return mac


def _is_hex(text: str) -> bool:
    return text.isascii() and all(c in "0123456789ABCDEFabcdef" for c in text)


def battery_pct_from_advertisement(hex_data: str) -> float | None:
    """Battery % from a Ruuvi RAWv2 (format 5) advertisement in hex, or None if not format 5."""
    if len(hex_data) > _MAX_HEX or len(hex_data) % 2 or not _is_hex(hex_data):
        return None
    raw = binascii.unhexlify(hex_data)
    pos = 0
    while pos + 1 < len(raw):
        length = raw[pos]
        if length == 0:
            return None
        ad_type, body = raw[pos + 1], raw[pos + 2 : pos + 1 + length]
        if ad_type == 0xFF and body[:2] == _RUUVI_COMPANY and len(body) >= 2 + _DF5_LEN:
            if body[2] != _DF5:
                return None
            power = int.from_bytes(body[2 + 13 : 2 + 15], "big")
            millivolts = (power >> 5) + 1600
            if power >> 5 == 0x7FF:  # "not available"
                return None
            pct = (millivolts - _EMPTY_MV) / (_FULL_MV - _EMPTY_MV) * 100.0
            return round(min(100.0, max(0.0, pct)), 1)
        pos += 1 + length
    return None


class RuuviGatewayDecoder(JsonDecoder):
    """Ruuvi Gateway MQTT (one tag per message) and HTTP (all tags in one post)."""

    name = "ruuvi"

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """Dispatch on the shape: HTTP posts have a ``data`` object with ``tags``."""
        if type(data) is not dict:
            raise FieldError("malformed", f"expected a Ruuvi object, got {json_type(data)}")
        body = data.get("data")
        if type(body) is dict:
            return self._http(body)
        return self._mqtt(data, ctx)

    def _mqtt(self, data: dict[str, Any], ctx: DecodeContext) -> DecodeResult:
        parts = ctx.topic.split("/") if ctx.topic else []
        if len(parts) < 3:
            raise FieldError(
                "wrong_topic", f"topic {ctx.topic!r:.120} is not ruuvi/<gw_mac>/<tag_mac>"
            )
        result = DecodeResult()
        try:
            # gw_mac is in every documented message; the topic's gateway level is the fallback
            gw_mac = data.get("gw_mac", parts[-2])
            gateway = _mac(gw_mac, "gw_mac")
            result.gateway = gateway
            tag = _mac(parts[-1], "tag MAC in topic")
            for m in _readings(gateway, tag, data.get("ts", data.get("gwts")), data):
                result.add(0, m)
        except FieldError as exc:
            result.reject(0, exc.code, exc.reason)
        return result

    def _http(self, body: dict[str, Any]) -> DecodeResult:
        gateway = _mac(body.get("gw_mac"), "data.gw_mac")
        tags = body.get("tags")
        if type(tags) is not dict:
            raise FieldError("malformed", f"data.tags: expected an object, got {json_type(tags)}")
        result = DecodeResult(gateway=gateway)
        for index, (mac, reading) in enumerate(tags.items()):
            try:
                for m in _readings(gateway, _mac(mac, "tag MAC"), body.get("timestamp"), reading):
                    result.add(index, m)
            except FieldError as exc:
                result.reject(index, exc.code, exc.reason)
        return result


def _readings(gateway: str, tag: str, default_ts: object, reading: object) -> list[Measurement]:
    """The RSSI reading of one tag, and its battery status when the advertisement has one."""
    if type(reading) is not dict:
        raise FieldError("malformed", f"{tag}: expected an object, got {json_type(reading)}")
    ts_value = reading.get("timestamp", default_ts)
    if ts_value is None:
        raise FieldError("malformed", "timestamp: missing")
    ts = unix_seconds(ts_value, "timestamp")
    out = [
        Measurement(
            ts=ts, tag=tag, anchor=gateway, rssi_dbm=read_number(reading.get("rssi"), "rssi")
        )
    ]
    raw = reading.get("data")
    battery = battery_pct_from_advertisement(raw) if type(raw) is str else None
    if battery is not None:
        out.append(Measurement(ts=ts, tag=tag, battery_pct=battery))
    return out
