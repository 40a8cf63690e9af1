"""UDP source: one datagram is one canonical batch (CONTRACT section 3), port configurable."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from minepos.errors import InputError
from minepos.ingest.decoders import DECODERS

if TYPE_CHECKING:
    from minepos.ingest.pipeline import IngestPipeline

__all__ = ["UdpSource", "UdpSourceConfig"]

logger = logging.getLogger(__name__)


class UdpSourceConfig(BaseModel):
    """Where to listen and what to accept."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="address to bind (0.0.0.0 for all)")
    port: int = Field(default=17883, ge=0, le=65535, description="UDP port (0: any free port)")
    decoder: str = Field(default="canonical", description="decoder for every datagram")
    allowed_sources: list[str] | None = Field(
        default=None, description="networks allowed to send, e.g. ['10.1.0.0/16']; None: any"
    )

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, value: str) -> str:
        if value not in DECODERS:
            raise ValueError(f"unknown decoder {value!r} (known: {', '.join(sorted(DECODERS))})")
        return value

    @field_validator("allowed_sources")
    @classmethod
    def _networks(cls, value: list[str] | None) -> list[str] | None:
        for net in value or []:
            ipaddress.ip_network(net, strict=False)
        return value


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, source: UdpSource) -> None:
        self.source = source

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.source.handle(data, str(addr[0]))

    def error_received(self, exc: Exception) -> None:
        logger.warning("UDP receive error: %s", exc)


class UdpSource:
    """Listens on a UDP port and hands each datagram to the pipeline."""

    def __init__(self, config: UdpSourceConfig, pipeline: IngestPipeline) -> None:
        self.config = config
        self.pipeline = pipeline
        self.ready = asyncio.Event()
        self.port: int | None = None
        self.datagrams = 0
        self.refused_sources = 0
        self._allowed = (
            None
            if config.allowed_sources is None
            else [ipaddress.ip_network(n, strict=False) for n in config.allowed_sources]
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop` is set."""
        loop = asyncio.get_running_loop()
        where = f"{self.config.host}:{self.config.port}"
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(self.config.host, self.config.port)
            )
        except OSError as exc:
            raise InputError(f"cannot listen for UDP ingest on {where}: {exc.strerror}") from exc
        try:
            self.port = int(transport.get_extra_info("sockname")[1])
            self.ready.set()
            logger.info("UDP ingest on %s:%s", self.config.host, self.port)
            await stop.wait()
        finally:
            transport.close()

    def handle(self, data: bytes, source_ip: str) -> None:
        """One datagram, one batch; the gateway is the batch's own name or the sender address."""
        self.datagrams += 1
        if self._allowed is not None and not self._is_allowed(source_ip):
            self.refused_sources += 1
            logger.warning("UDP datagram from %s refused: not in allowed_sources", source_ip)
            return
        self.pipeline.accept(
            data, None, "udp", decoder=self.config.decoder, default_gateway=f"udp:{source_ip}"
        )

    def _is_allowed(self, source_ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(source_ip)
        except ValueError:
            return False
        assert self._allowed is not None
        return any(addr in net for net in self._allowed)
