"""MqttSource against a real Mosquitto: delivery, vendor topics, persistent session, restart."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from minepos.ingest import IngestPipeline, MemoryDeadLetterStore, ValidationLimits, Validator
from minepos.ingest.transports import MqttSource, MqttSourceConfig, MqttSubscription

from .broker import MOSQUITTO, ThrowawayBroker, reachable
from .conftest import RecordingSink

pytestmark = [pytest.mark.mqtt, pytest.mark.timeout(120)]

SYSTEM_BROKER = ("127.0.0.1", 1883)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ThrowawayBroker]:
    if MOSQUITTO is None:
        pytest.skip("the mosquitto binary is not installed")
    b = ThrowawayBroker(tmp_path)
    b.start()
    yield b
    b.stop()


def _pipeline() -> tuple[IngestPipeline, RecordingSink, MemoryDeadLetterStore]:
    sink = RecordingSink()
    letters = MemoryDeadLetterStore()
    validator = Validator(None, None, time.time, ValidationLimits(max_age_s=3600))
    return IngestPipeline(sink, validator, dead_letters=letters), sink, letters


def _publisher(port: int, client_id: str) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.reconnect_delay_set(min_delay=1, max_delay=2)
    client.max_inflight_messages_set(50)
    client.connect("127.0.0.1", port, keepalive=10)
    client.loop_start()
    return client


def _forget_session(port: int, client_id: str) -> None:
    """Leave no persistent session behind on a shared broker."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect("127.0.0.1", port)
    client.disconnect()


def _acked(info: paho.MQTTMessageInfo) -> bool:
    """True once the broker has acknowledged (PUBACK) the message."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):  # published while disconnected: never accepted
        return False


async def _wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.05)


def test_plain_mqtt_client_reaches_the_engine_canonical_and_vendor() -> None:
    if not reachable(*SYSTEM_BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    mine = f"test-{uuid.uuid4().hex[:8]}"
    cid = f"minepos-test-{mine}"
    config = MqttSourceConfig(
        port=SYSTEM_BROKER[1],
        mine=mine,
        client_id=cid,
        subscriptions=[
            MqttSubscription(
                topic=f"minepos/{mine}/ingest/+", decoder="canonical", gateway_level=3
            ),
            MqttSubscription(
                topic=f"{mine}/dwm/node/+/uplink/location", decoder="dwm1001", gateway="dwm-gw"
            ),
        ],
    )
    pipeline, sink, letters = _pipeline()
    now = time.time()
    batch = {
        "gateway": "ignored",
        "measurements": [
            {"ts": now, "anchor": "a1", "tag": "t1", "range_m": 5.5},
            {"ts": now, "tag": "t1", "event": "sos"},
            {"ts": now, "tag": "t1", "battery_pct": 400},
        ],
    }

    async def scenario() -> MqttSource:
        stop = asyncio.Event()
        source = MqttSource(config, pipeline)
        task = asyncio.create_task(source.run(stop))
        await asyncio.wait_for(source.connected.wait(), 10)
        pub = _publisher(SYSTEM_BROKER[1], f"{cid}-pub")
        pub.publish(f"minepos/{mine}/ingest/gw-7", json.dumps(batch), qos=1).wait_for_publish(5)
        pub.publish(
            f"{mine}/dwm/node/0A1B/uplink/location",
            b'{"position":{"x":1,"y":2,"z":3,"quality":90},"superFrameNumber":1}',
            qos=1,
        )
        pub.publish(f"minepos/{mine}/ingest/gw-7", b"{broken", qos=1).wait_for_publish(5)
        await _wait_for(lambda: source.messages >= 3, 10)
        pub.loop_stop()
        pub.disconnect()
        stop.set()
        await task
        return source

    source = asyncio.run(scenario())
    _forget_session(SYSTEM_BROKER[1], cid)
    assert source.messages == 3
    got = {(m.tag, m.event, m.range_m, m.xyz) for m in sink.measurements}
    assert got == {
        ("t1", None, 5.5, None),
        ("t1", "sos", None, None),
        ("0a1b", None, None, (1.0, 2.0, 3.0)),
    }
    counts = pipeline.counters()
    assert counts[("gw-7", "accepted")] == 2  # the topic names the gateway, not the payload
    assert counts[("gw-7", "bad_value")] == 1
    assert counts[("gw-7", "invalid_json")] == 1
    assert counts[("dwm-gw", "accepted")] == 1
    assert {d.reason.split(":")[0] for d in letters.recent(10)} == {
        "invalid_json",
        "1 of 3 refused",
    }


def test_persistent_session_keeps_what_arrives_while_we_are_away(broker: ThrowawayBroker) -> None:
    config = MqttSourceConfig(port=broker.port, mine="m", client_id="ingest-persist")
    pipeline, sink, _ = _pipeline()

    async def run_once(until: int) -> None:
        stop = asyncio.Event()
        source = MqttSource(config, pipeline)
        task = asyncio.create_task(source.run(stop))
        await asyncio.wait_for(source.connected.wait(), 10)
        await _wait_for(lambda: len(sink.measurements) >= until, 10)
        stop.set()
        await task

    asyncio.run(run_once(0))  # subscribe once, then go away
    pub = _publisher(broker.port, "pub-persist")
    for i in range(20):
        item = {"ts": time.time(), "tag": f"t{i}", "event": "fall"}
        pub.publish("minepos/m/ingest/g1", json.dumps(item), qos=1).wait_for_publish(5)
    pub.loop_stop()
    pub.disconnect()
    asyncio.run(run_once(20))  # the broker kept all 20 for our session
    assert sorted(m.tag for m in sink.measurements) == sorted(f"t{i}" for i in range(20))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_broker_killed_and_restarted_mid_stream_loses_nothing_it_accepted(
    tmp_path: Path, sig: int
) -> None:
    if MOSQUITTO is None:
        pytest.skip("the mosquitto binary is not installed")
    # SIGKILL gives Mosquitto no chance to save: it must have saved every message it accepted
    broker = ThrowawayBroker(tmp_path, save_every_change=sig == signal.SIGKILL)
    broker.start()
    config = MqttSourceConfig(
        port=broker.port,
        mine="m",
        client_id="ingest-restart",
        reconnect_min_s=0.1,
        reconnect_max_s=1.0,
    )
    pipeline, sink, _ = _pipeline()
    total = 3000
    infos: list[paho.MQTTMessageInfo] = []
    restarted = threading.Event()

    def publish_all() -> None:
        pub = _publisher(broker.port, "pub-restart")
        for i in range(total):
            item = {"ts": time.time(), "tag": "t1", "anchor": "a1", "range_m": i / 10}
            infos.append(pub.publish("minepos/m/ingest/g1", json.dumps(item), qos=1))
            time.sleep(0.0007)
        restarted.wait(30)
        deadline = time.monotonic() + 30
        sent = [i for i in infos if i.rc == paho.MQTT_ERR_SUCCESS]
        while time.monotonic() < deadline and not all(_acked(i) for i in sent):
            time.sleep(0.1)
        pub.loop_stop()
        pub.disconnect()

    async def scenario() -> MqttSource:
        stop = asyncio.Event()
        source = MqttSource(config, pipeline)
        task = asyncio.create_task(source.run(stop))
        await asyncio.wait_for(source.connected.wait(), 10)
        publisher = asyncio.create_task(asyncio.to_thread(publish_all))
        await _wait_for(lambda: len(sink.measurements) > total // 3, 20)
        await asyncio.to_thread(broker.stop, sig)  # mid-stream
        await asyncio.sleep(0.5)
        await asyncio.to_thread(broker.start)
        restarted.set()
        await publisher
        acked = {i for i, info in enumerate(infos) if _acked(info)}
        await _wait_for(
            lambda: acked <= {round((m.range_m or 0) * 10) for m in sink.measurements}, 20
        )
        stop.set()
        await task
        return source

    try:
        source = asyncio.run(scenario())
    finally:
        broker.stop()
    acked = {i for i, info in enumerate(infos) if _acked(info)}
    received = {round((m.range_m or 0) * 10) for m in sink.measurements}
    assert source.connects >= 2, "the broker restart did not force a reconnect"
    assert len(acked) > total // 3
    lost = acked - received
    assert lost == set(), f"{len(acked - received)} accepted by the broker were lost"
    assert len(sink.measurements) == len(received)  # redeliveries were dropped as duplicates


def test_minepos_simulate_mqtt_reaches_the_engine(broker: ThrowawayBroker) -> None:
    """`minepos simulate --mqtt` (the real CLI) -> Mosquitto -> MqttSource -> pipeline -> sink."""
    import subprocess
    import sys

    from minepos.mine.demo import demo_mine_dict
    from minepos.mine.loader import mine_from_dict

    mine = mine_from_dict(demo_mine_dict(), "demo mine")
    tags = {p.tag for p in mine.people}
    anchors = {a.id for a in mine.anchors}
    sink = RecordingSink()
    validator = Validator(tags, anchors, time.time, ValidationLimits(max_future_s=30))
    pipeline = IngestPipeline(sink, validator, dead_letters=MemoryDeadLetterStore())
    config = MqttSourceConfig(port=broker.port, mine=mine.id, client_id="ingest-sim")
    cmd = [
        sys.executable,
        "-c",
        "from minepos.cli import main; main()",
        "simulate",
        "--mine",
        "demo",
        "--people",
        "40",
        "--minutes",
        "0.2",
        "--speed",
        "0",
        "--shift-offset",  # an hour into the shift: people are underground, anchors hear them
        "60",
        "--mqtt",
        f"mqtt://127.0.0.1:{broker.port}",
    ]

    async def scenario() -> str:
        stop = asyncio.Event()
        source = MqttSource(config, pipeline)
        task = asyncio.create_task(source.run(stop))
        await asyncio.wait_for(source.connected.wait(), 10)
        proc = await asyncio.to_thread(
            subprocess.run, cmd, capture_output=True, text=True, timeout=120, check=False
        )
        assert proc.returncode == 0, proc.stderr
        sent = int(proc.stdout.split("sent ")[1].split(" measurements")[0].replace(",", ""))
        await _wait_for(lambda: sum(pipeline.counters().values()) >= sent, 20)
        stop.set()
        await task
        return proc.stdout

    out = asyncio.run(scenario())
    sent = int(out.split("sent ")[1].split(" measurements")[0].replace(",", ""))
    counts = pipeline.counters()
    accepted = sum(n for (_, k), n in counts.items() if k == "accepted")
    assert sent > 0
    assert sum(counts.values()) == sent, counts  # every measurement sent is accounted for
    assert accepted >= 0.99 * sent, counts
    assert len(sink.measurements) == accepted


def test_source_started_before_the_broker_connects_when_it_comes_up(tmp_path: Path) -> None:
    if MOSQUITTO is None:
        pytest.skip("the mosquitto binary is not installed")
    broker = ThrowawayBroker(tmp_path)  # not started yet
    config = MqttSourceConfig(
        port=broker.port,
        mine="m",
        client_id="ingest-late",
        reconnect_min_s=0.05,
        reconnect_max_s=0.4,
    )
    pipeline, _sink, _ = _pipeline()

    async def scenario() -> float:
        stop = asyncio.Event()
        source = MqttSource(config, pipeline)
        task = asyncio.create_task(source.run(stop))
        await asyncio.sleep(1.0)  # a few refused attempts, backing off up to 0.4 s
        assert not source.connected.is_set()
        await asyncio.to_thread(broker.start)
        started = time.monotonic()
        await asyncio.wait_for(source.connected.wait(), 5)
        waited = time.monotonic() - started
        stop.set()
        await task
        return waited

    try:
        waited = asyncio.run(scenario())
    finally:
        broker.stop()
    assert waited < 1.0  # the back-off is capped at reconnect_max_s


_CRASHING_CONSUMER = """
import asyncio, sys, time
from minepos.ingest import IngestPipeline, ValidationLimits, Validator
from minepos.ingest.transports import MqttSource, MqttSourceConfig

out = open(sys.argv[2], "a", buffering=1)

def slow_engine(batch):
    time.sleep(0.004)  # slower than the publisher: a backlog builds up in our queue
    for m in batch:
        out.write(f"{round(m.range_m * 10)}\\n")

async def main():
    validator = Validator(None, None, time.time, ValidationLimits(max_age_s=3600))
    config = MqttSourceConfig(port=int(sys.argv[1]), mine="m", client_id="ingest-crash")
    source = MqttSource(config, IngestPipeline(slow_engine, validator))
    task = asyncio.create_task(source.run(asyncio.Event()))
    await source.connected.wait()
    print("ready", flush=True)
    await task

asyncio.run(main())
"""


def test_minepos_killed_mid_stream_loses_nothing_the_broker_accepted(
    broker: ThrowawayBroker, tmp_path: Path
) -> None:
    """PUBACK only after processing: what the killed process had queued is delivered again."""
    import subprocess
    import sys

    done_file = tmp_path / "processed.txt"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_CONSUMER, str(broker.port), str(done_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        pub = _publisher(broker.port, "pub-crash")
        infos = []
        for i in range(1500):
            item = {"ts": time.time(), "tag": "t1", "anchor": "a1", "range_m": i / 10}
            infos.append(pub.publish("minepos/m/ingest/g1", json.dumps(item), qos=1))
            if i == 600:
                while len(done_file.read_text().split()) < 100:
                    time.sleep(0.01)
                proc.kill()  # SIGKILL: no chance to finish anything
                proc.wait(10)
        for info in infos:
            info.wait_for_publish(10)
        pub.loop_stop()
        pub.disconnect()
    finally:
        if proc.poll() is None:
            proc.kill()
    before = {int(x) for x in done_file.read_text().split()}
    acked = {i for i, info in enumerate(infos) if _acked(info)}
    assert len(before) < 700, "the consumer was killed before it could catch up"

    config = MqttSourceConfig(port=broker.port, mine="m", client_id="ingest-crash")
    pipeline, sink, _ = _pipeline()

    async def restart() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(MqttSource(config, pipeline).run(stop))
        got = lambda: before | {round((m.range_m or 0) * 10) for m in sink.measurements}  # noqa: E731
        await _wait_for(lambda: acked <= got(), 20)
        stop.set()
        await task

    asyncio.run(restart())
    after = {round((m.range_m or 0) * 10) for m in sink.measurements}
    assert len(acked) == 1500
    assert acked - (before | after) == set(), f"{len(acked - before - after)} lost"
