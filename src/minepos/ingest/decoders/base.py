"""The decoder interface and the JSON base class that makes every decoder total (never raises)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Protocol

from minepos.ingest.decoders._fields import load_json
from minepos.ingest.report import DecodeContext, DecodeResult, FieldError

__all__ = ["Decoder", "JsonDecoder"]

logger = logging.getLogger(__name__)


class Decoder(Protocol):
    """Turns one payload into canonical measurements plus per-item rejects; never raises."""

    @property
    def name(self) -> str:
        """The registry name, used in configuration and dead letters."""
        ...

    def decode(self, payload: bytes, ctx: DecodeContext) -> DecodeResult:
        """Decode the bytes a transport received."""
        ...


class JsonDecoder:
    """Base for JSON formats: parse once, hand the value to `decode_json`, catch everything."""

    name: ClassVar[str] = "json"

    def decode(self, payload: bytes, ctx: DecodeContext) -> DecodeResult:
        """Decode; a payload-level problem becomes one reject, a decoder bug a `decoder_error`."""
        try:
            return self.decode_json(load_json(payload), ctx)
        except FieldError as exc:
            return DecodeResult.refused(exc.code, exc.reason)
        except Exception as exc:  # a bug here must never stop the flow; it is kept as a dead letter
            logger.exception("%s decoder failed", self.name)
            return DecodeResult.refused(
                "decoder_error", f"{self.name} decoder failed: {type(exc).__name__}: {exc}"
            )

    def decode_json(self, data: Any, ctx: DecodeContext) -> DecodeResult:
        """Decode an already parsed JSON value; subclasses implement this."""
        raise NotImplementedError
