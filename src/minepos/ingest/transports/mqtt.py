"""MQTT source: a persistent QoS 1 session that feeds every message to the ingest pipeline.

The session survives broker restarts and our own reconnects (fixed client id, clean session
off), so the broker keeps what arrives while we are away; reconnects back off exponentially.
A message is acknowledged (PUBACK) only after the pipeline has handed it on, so one received but
not yet processed when the connection drops or minepos stops is delivered again by the broker
(at least once; the de-duplicator drops the repeat). Each subscription names the decoder for its
topic filter; the gateway name comes from a topic level or is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Annotated, NamedTuple, cast
from urllib.parse import urlsplit

import aiomqtt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from minepos.errors import InputError
from minepos.ingest.decoders import DECODERS

if TYPE_CHECKING:
    from minepos.ingest.pipeline import IngestPipeline

__all__ = ["BrokerAddress", "MqttSource", "MqttSourceConfig", "MqttSubscription", "broker_address"]

logger = logging.getLogger(__name__)


def _check_filter(topic: str) -> str:
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if ("+" in level and level != "+") or (
            "#" in level and (level != "#" or i != len(levels) - 1)
        ):
            raise ValueError(f"{topic!r} is not a valid MQTT topic filter")
    if not topic:
        raise ValueError("the topic filter is empty")
    return topic


class MqttSubscription(BaseModel):
    """One topic filter and how to read what arrives on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(description="MQTT topic filter, e.g. 'dwm/node/+/uplink/location'")
    decoder: str = Field(description=f"decoder name: one of {', '.join(sorted(DECODERS))}")
    gateway: str | None = Field(
        default=None, description="fixed gateway name for everything on this filter"
    )
    gateway_level: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="index of the topic level that names the gateway (0-based)"
    )

    @field_validator("topic")
    @classmethod
    def _valid_filter(cls, value: str) -> str:
        return _check_filter(value)

    @field_validator("decoder")
    @classmethod
    def _known_decoder(cls, value: str) -> str:
        if value not in DECODERS:
            raise ValueError(f"unknown decoder {value!r} (known: {', '.join(sorted(DECODERS))})")
        return value

    def gateway_for(self, topic: str) -> str:
        """The gateway name for a message on `topic`."""
        if self.gateway is not None:
            return self.gateway
        if self.gateway_level is not None:
            levels = topic.split("/")
            if self.gateway_level < len(levels) and levels[self.gateway_level]:
                return levels[self.gateway_level][:64]
        return self.decoder


class BrokerAddress(NamedTuple):
    """Where an MQTT broker is and who to log in as."""

    host: str
    port: int
    username: str | None
    password: str | None


def broker_address(url: str) -> BrokerAddress:
    """``mqtt://[user:password@]host[:port]`` (or ``host[:port]``); InputError naming the URL."""
    try:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        port = parts.port or 1883
    except ValueError as exc:
        raise InputError(f"MQTT URL {url!r}: {exc}") from exc
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise InputError(f"MQTT URL {url!r}: expected mqtt://host[:port]")
    return BrokerAddress(parts.hostname, port, parts.username, parts.password)


class MqttSourceConfig(BaseModel):
    """Broker connection and subscriptions of the MQTT source."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="broker host name or address")
    port: int = Field(default=1883, ge=1, le=65535, description="broker TCP port")
    mine: str = Field(default="demo", description="mine id in minepos/<mine>/ingest/<gateway>")
    client_id: str = Field(
        default="minepos-ingest",
        description="fixed MQTT client id: the broker keeps this session while we are away",
    )
    username: str | None = Field(default=None, description="broker user name")
    password: str | None = Field(default=None, description="broker password")
    keepalive_s: int = Field(default=30, ge=5, description="MQTT keep-alive interval")
    reconnect_min_s: float = Field(default=0.2, gt=0, description="first reconnect delay")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="longest reconnect delay")
    subscriptions: list[MqttSubscription] | None = Field(
        default=None,
        description="topic filters and decoders; default: the canonical minepos/<mine>/ingest/+",
    )

    def effective_subscriptions(self) -> list[MqttSubscription]:
        """The configured subscriptions, or the canonical ingest topic of the mine."""
        if self.subscriptions:
            return list(self.subscriptions)
        return [
            MqttSubscription(
                topic=f"minepos/{self.mine}/ingest/+", decoder="canonical", gateway_level=3
            )
        ]


class MqttSource:
    """Subscribes with QoS 1 on a persistent session and hands each message to the pipeline."""

    def __init__(self, config: MqttSourceConfig, pipeline: IngestPipeline) -> None:
        self.config = config
        self.pipeline = pipeline
        self.subscriptions = config.effective_subscriptions()
        missing = [s.decoder for s in self.subscriptions if s.decoder not in pipeline.decoders]
        if missing:
            raise InputError(f"MQTT subscriptions name unknown decoders: {', '.join(missing)}")
        self.connected = asyncio.Event()
        self.connects = 0
        self.messages = 0
        self.unmatched = 0
        self.errors = 0
        self._routes: dict[str, MqttSubscription | None] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Receive until `stop` is set, reconnecting with exponential back-off."""
        delay = self.config.reconnect_min_s
        while not stop.is_set():
            connects = self.connects
            try:
                await self._session(stop)
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                if self.connects > connects:  # it was up for a while: start backing off afresh
                    delay = self.config.reconnect_min_s
                cfg = self.config
                logger.warning("MQTT %s:%s: %s; retry in %.1f s", cfg.host, cfg.port, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, cfg.reconnect_max_s)

    def _client(self, queue: asyncio.Queue[aiomqtt.Message]) -> aiomqtt.Client:
        def this_queue(maxsize: int = 0) -> asyncio.Queue[aiomqtt.Message]:
            return queue

        cfg = self.config
        client = aiomqtt.Client(
            cfg.host,
            cfg.port,
            identifier=cfg.client_id,
            clean_session=False,
            username=cfg.username,
            password=cfg.password,
            keepalive=cfg.keepalive_s,
            # our own handle on the queue: queued messages are taken without a task switch each
            queue_type=cast("type[asyncio.Queue[aiomqtt.Message]]", this_queue),
        )
        # aiomqtt does not expose paho's manual acknowledgement; PUBACK after processing needs it
        client._client.manual_ack_set(True)
        return client

    async def _session(self, stop: asyncio.Event) -> None:
        # A fresh queue per connection: what the last one received but did not acknowledge, the
        # broker sends again on this one.
        queue: asyncio.Queue[aiomqtt.Message] = asyncio.Queue()
        async with self._client(queue) as client:
            for sub in self.subscriptions:
                granted = await client.subscribe(sub.topic, qos=1)
                codes = [g if isinstance(g, int) else int(g.value) for g in granted]
                if any(c >= 0x80 for c in codes):  # SUBACK failure: e.g. the broker's ACL
                    logger.error("MQTT broker refused the subscription %s (%s)", sub.topic, codes)
            self.connects += 1
            self.connected.set()
            logger.info("MQTT connected to %s:%s", self.config.host, self.config.port)
            consume = asyncio.create_task(self._consume(client, queue, stop))
            stopped = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({consume, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if consume in done:
                stopped.cancel()
                consume.result()  # raises the MqttError that ended the session
        # Stopping: the disconnect above ends the consumer's iteration; what it had not taken
        # stays unacknowledged in the broker's session for the next start.
        with contextlib.suppress(aiomqtt.MqttError):
            await consume

    async def _consume(
        self, client: aiomqtt.Client, queue: asyncio.Queue[aiomqtt.Message], stop: asyncio.Event
    ) -> None:
        paho = client._client
        async for message in client.messages:
            self._handle(message)
            paho.ack(message.mid, message.qos)
            # Under load, take what is already queued without a task switch per message.
            for _ in range(min(queue.qsize(), 256)):
                if stop.is_set():
                    return
                queued = queue.get_nowait()
                self._handle(queued)
                paho.ack(queued.mid, queued.qos)
            if self.pipeline.metrics is not None:
                self.pipeline.metrics.set_queue_depth("mqtt", queue.qsize())
            if stop.is_set():
                return

    def _handle(self, message: aiomqtt.Message) -> None:
        self.messages += 1
        topic = message.topic.value
        payload = message.payload
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        try:
            sub = self._route(topic, message.topic)
            if sub is None:
                self.unmatched += 1
                self.pipeline.accept(
                    data,
                    None,
                    "mqtt",
                    decoder="unmatched",
                    topic=topic,
                    default_gateway="unmatched",
                )
            else:
                gateway = sub.gateway_for(topic)
                self.pipeline.accept(data, gateway, "mqtt", decoder=sub.decoder, topic=topic)
        except Exception:  # a bug must not stop the source, nor make a message come back forever
            self.errors += 1
            logger.exception("MQTT message on %s could not be handled", topic)

    def _route(self, topic: str, parsed: aiomqtt.Topic) -> MqttSubscription | None:
        try:
            return self._routes[topic]
        except KeyError:
            pass
        found = next((s for s in self.subscriptions if parsed.matches(s.topic)), None)
        if len(self._routes) > 10_000:  # topics carry device ids; keep the cache bounded
            self._routes.clear()
        self._routes[topic] = found
        return found
