"""Live mode: publish a simulation as gateways would, over MQTT or HTTP, in (scaled) real time.

Anchors are grouped into gateways (a tunnel's anchors, at most ``anchors_per_gateway`` each);
every tick each gateway sends one canonical batch ``{"gateway": g, "measurements": [...]}``
(CONTRACT sections 2-3) of what its anchors heard. Tag reports (status, SOS) travel through the
gateway of the tunnel the tag is in; lamp-room events through the ``lamproom`` gateway.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np

from minepos.errors import InputError
from minepos.mine import Mine
from minepos.sim.batch import EVENT, MeasurementBatch
from minepos.sim.simulation import Simulation, Tick

__all__ = ["Gateways", "LiveSummary", "MqttPublisher", "gateway_batches", "run_live"]

log = logging.getLogger(__name__)
LAMP_GATEWAY = "lamproom"
_LAG_WARN_S = 5.0


class Gateways:
    """Which gateway carries each anchor's and each tunnel's traffic."""

    def __init__(self, mine: Mine, per_gateway: int) -> None:
        self.names: list[str] = []
        self.of_anchor = np.zeros(len(mine.anchors), dtype=np.intp)
        self.of_tunnel = np.zeros(len(mine.tunnels), dtype=np.intp)
        for t, tunnel in enumerate(mine.tunnels):
            anchors = [k for k, a in enumerate(mine.anchors) if a.tunnel == tunnel.id]
            chunks = [anchors[i : i + per_gateway] for i in range(0, len(anchors), per_gateway)]
            first = len(self.names)
            for n, chunk in enumerate(chunks or [[]]):
                self.names.append(f"gw_{tunnel.id}" + (f"_{n}" if n else ""))
                self.of_anchor[chunk] = len(self.names) - 1
            self.of_tunnel[t] = first
        self.lamp = len(self.names)
        self.names.append(LAMP_GATEWAY)


def gateway_batches(tick: Tick, gateways: Gateways) -> dict[str, list[str]]:
    """JSON lines of a tick's measurements grouped by the gateway that would send them."""
    m: MeasurementBatch = tick.measurements
    if not len(m):
        return {}
    tunnel_of = np.full(len(tick.sim.people), -1, dtype=np.intp)
    tunnel_of[tick.truth.person] = tick.truth.tunnel
    tag_tunnel = tunnel_of[m.person]
    gw = np.where(
        m.anchor >= 0,
        gateways.of_anchor[np.maximum(m.anchor, 0)],
        np.where(tag_tunnel >= 0, gateways.of_tunnel[np.maximum(tag_tunnel, 0)], gateways.lamp),
    )
    lamp_event = (m.kind == EVENT) & (m.event <= 1)
    gw = np.where(lamp_event, gateways.lamp, gw)
    lines = m.json_lines(tick.sim.tags, tick.sim.anchor_ids)
    out: dict[str, list[str]] = {}
    for g, line in zip(gw.tolist(), lines, strict=True):
        out.setdefault(gateways.names[g], []).append(line)
    return out


@dataclass
class LiveSummary:
    """What live mode sent."""

    target: str
    batches: int = 0
    measurements: int = 0
    failed_batches: int = 0
    sim_s: float = 0.0
    wall_s: float = 0.0
    by_gateway: Counter[str] = field(default_factory=Counter)
    lagging: bool = False

    def describe(self) -> str:
        """A few lines for a person."""
        top = ", ".join(f"{g} {n}" for g, n in self.by_gateway.most_common(5))
        return (
            f"sent {self.measurements:,} measurements in {self.batches:,} batches from "
            f"{len(self.by_gateway)} gateways to {self.target} over {self.sim_s:.0f} simulated s "
            f"({self.wall_s:.1f} s wall); failed batches: {self.failed_batches}\n"
            f"busiest gateways: {top or 'none'}"
            + ("\nfell behind the requested --speed" if self.lagging else "")
        )


def _payload(gateway: str, lines: list[str]) -> bytes:
    return ('{"gateway":"%s","measurements":[%s]}' % (gateway, ",".join(lines))).encode()  # noqa: UP031


class MqttPublisher:
    """Publishes batches with QoS 1 to ``minepos/<mine>/ingest/<gateway>`` (paho-mqtt)."""

    def __init__(self, url: str, mine_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        u = urlparse(url if "://" in url else f"mqtt://{url}")
        if u.scheme not in ("mqtt", "tcp") or not u.hostname:
            raise InputError(f"--mqtt {url}: expected mqtt://host[:port]")
        self.prefix = f"minepos/{mine_id}/ingest/"
        # a unique client id: two simulators on one broker must not disconnect each other
        client_id = f"minepos-sim-{mine_id}-{uuid.uuid4().hex[:8]}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if u.username:
            self.client.username_pw_set(u.username, u.password)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(200)
        try:
            self.client.connect(u.hostname, u.port or 1883, keepalive=30)
        except OSError as exc:
            raise InputError(f"--mqtt {url}: cannot connect ({exc})") from exc
        self.client.loop_start()
        self.pending: list[object] = []

    def send(self, gateway: str, lines: list[str]) -> bool:
        """Queue one batch; False if the client refused it."""
        info = self.client.publish(self.prefix + gateway, _payload(gateway, lines), qos=1)
        self.pending.append(info)
        if len(self.pending) > 5000:
            self._drain(self.pending[:-1000])
            self.pending = self.pending[-1000:]
        return bool(info.rc == 0)

    def _drain(self, infos: list[object]) -> None:
        for info in infos:
            info.wait_for_publish(timeout=10)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Wait for every queued batch to be acknowledged, then disconnect."""
        self._drain(self.pending)
        self.client.loop_stop()
        self.client.disconnect()


class HttpPublisher:
    """POSTs batches to ``URL/api/v1/mines/<mine>/ingest`` with a gateway key."""

    def __init__(self, url: str, mine_id: str, key: str) -> None:
        import httpx

        if not url.startswith(("http://", "https://")):
            raise InputError(f"--http {url}: expected http://host[:port]")
        self.url = f"{url.rstrip('/')}/api/v1/mines/{mine_id}/ingest"
        self.client = httpx.Client(
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=10,
        )
        self.httpx = httpx
        self.failures = 0

    def send(self, gateway: str, lines: list[str]) -> bool:
        """POST one batch; False on a refusal or a transport error."""
        try:
            r = self.client.post(self.url, content=_payload(gateway, lines))
        except self.httpx.HTTPError as exc:
            self.failures += 1
            if self.failures == 1:
                log.warning("POST %s failed: %s", self.url, exc)
            return False
        if r.status_code >= 300:
            log.warning("POST %s: %s %s", self.url, r.status_code, r.text[:200])
            return False
        return True

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def run_live(
    sim: Simulation,
    *,
    mqtt_url: str | None = None,
    http_url: str | None = None,
    key: str | None = None,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> LiveSummary:
    """Publish the run tick by tick, paced at ``speed`` (0: as fast as possible) until it ends,
    ``stop`` is set, or Ctrl-C."""
    pub: MqttPublisher | HttpPublisher
    if mqtt_url is not None:
        pub, target = MqttPublisher(mqtt_url, sim.mine.id), mqtt_url
    elif http_url is not None and key is not None:
        pub, target = HttpPublisher(http_url, sim.mine.id, key), http_url
    else:
        raise InputError("live mode needs --mqtt URL or --http URL --key KEY")
    gateways = Gateways(sim.mine, sim.config.anchors_per_gateway)
    summary = LiveSummary(target)
    wall0 = time.monotonic()
    try:
        for tick in sim.run():
            if stop is not None and stop.is_set():
                break
            due = (tick.t + sim.config.tick_s - sim.config.start_ts) / speed if speed > 0 else 0.0
            wait = due - (time.monotonic() - wall0)
            if wait > 0:
                sleep(wait)
            elif wait < -_LAG_WARN_S and not summary.lagging:
                summary.lagging = True
                log.warning(
                    "live mode falls behind --speed %s by %.0f s: too many people?", speed, -wait
                )
            for g, lines in gateway_batches(tick, gateways).items():
                ok = pub.send(g, lines)
                summary.batches += 1
                summary.failed_batches += not ok
                if ok:
                    summary.measurements += len(lines)
                    summary.by_gateway[g] += len(lines)
            summary.sim_s = tick.t + sim.config.tick_s - sim.config.start_ts
    except KeyboardInterrupt:
        log.info("stopped by the user")
    finally:
        pub.close()
        summary.wall_s = time.monotonic() - wall0
    return summary
