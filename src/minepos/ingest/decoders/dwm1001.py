"""Qorvo/Decawave DWM1001 gateway (PANS): position fixes over MQTT.

Topic ``dwm/node/<node_id>/uplink/location``; payload
``{"position": {"x": 1.2, "y": 3.4, "z": 0.5, "quality": 87}, "superFrameNumber": 1234}``.
The node id (hex, as the gateway prints it, lower-cased) becomes the tag id; the position
(metres, in the frame the RTLS anchors were configured in) becomes ``Measurement.xyz``.
The payload carries no time, so ``ts`` is the server receive time.
Other DWM topics (``uplink/status``, ``uplink/config``, ``uplink/data``) carry no position and are
refused with ``wrong_topic``.
"""

from __future__ import annotations

from typing import Any, Final

from minepos.ingest.decoders._fields import json_type, read_id, read_number
from minepos.ingest.decoders.base import JsonDecoder
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError
from minepos.measurement import Measurement

__all__ = ["Dwm1001Decoder", "node_id_from_topic"]

_LEVELS: Final = 5  # dwm / node / <id> / uplink / location


def node_id_from_topic(topic: str | None) -> str:
    """The node id of a ``[prefix/]dwm/node/<id>/uplink/location`` topic; `FieldError` otherwise.

    A prefix is allowed for brokers that bridge several gateways under their own roots.
    """
    parts = topic.split("/")[-_LEVELS:] if topic else []
    if len(parts) != _LEVELS or parts[:2] != ["dwm", "node"] or parts[3:] != ["uplink", "location"]:
        raise FieldError(
            "wrong_topic", f"topic {topic!r:.120} is not dwm/node/<id>/uplink/location"
        )
    return read_id(parts[2].lower(), "node id")


class Dwm1001Decoder(JsonDecoder):
    """DWM1001 ``uplink/location``: one position fix of one tag."""

    name = "dwm1001"

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """One location message is one item."""
        tag = node_id_from_topic(ctx.topic)
        result = DecodeResult()
        try:
            result.add(0, Measurement(ts=ctx.received_at, tag=tag, xyz=_position(data)))
        except FieldError as exc:
            result.reject(0, exc.code, exc.reason)
        return result


def _position(data: Any) -> tuple[float, float, float]:
    if type(data) is not dict:
        raise FieldError("malformed", f"expected a location object, got {json_type(data)}")
    pos = data.get("position")
    if type(pos) is not dict:
        raise FieldError("malformed", f"position: expected an object, got {json_type(pos)}")
    quality = pos.get("quality")
    if quality is not None:
        q = read_number(quality, "position.quality")
        if not 0 <= q <= 100:
            raise FieldError("bad_value", f"position.quality: {q:g} is outside 0..100")
        if q == 0:
            raise FieldError("bad_value", "position.quality: 0 (the tag has no position fix)")
    return (
        read_number(pos.get("x"), "position.x"),
        read_number(pos.get("y"), "position.y"),
        read_number(pos.get("z"), "position.z"),
    )
