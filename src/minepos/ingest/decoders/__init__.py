"""Decoders, one module per payload format, in an explicit registry (name -> decoder)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from minepos.errors import InputError
from minepos.ingest.decoders.base import Decoder, JsonDecoder
from minepos.ingest.decoders.canonical import CanonicalDecoder
from minepos.ingest.decoders.chirpstack import ChirpStackUplinkDecoder
from minepos.ingest.decoders.dwm1001 import Dwm1001Decoder
from minepos.ingest.decoders.minew import MinewGatewayDecoder
from minepos.ingest.decoders.ruuvi import RuuviGatewayDecoder

__all__ = ["DECODERS", "Decoder", "JsonDecoder", "get_decoder"]

#: Every decoder minepos knows, by the name used in configuration and in dead letters.
DECODERS: Final[Mapping[str, Decoder]] = MappingProxyType(
    {
        d.name: d
        for d in (
            CanonicalDecoder(),
            Dwm1001Decoder(),
            RuuviGatewayDecoder(),
            MinewGatewayDecoder(),
            ChirpStackUplinkDecoder(),
        )
    }
)


def get_decoder(name: str) -> Decoder:
    """The decoder registered under `name`; `InputError` listing the known ones otherwise."""
    try:
        return DECODERS[name]
    except KeyError:
        known = ", ".join(sorted(DECODERS))
        raise InputError(f"unknown decoder {name!r} (known: {known})") from None
