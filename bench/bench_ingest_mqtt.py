"""Sustained MQTT ingest through Mosquitto on this machine, beside the broker's own delivery rate.

Publisher processes send canonical batches (QoS 1) at a target rate; in this process `MqttSource`
+ `IngestPipeline` (validation against 14,000 known tags and their anchors, de-duplication,
metrics, dead letters in SQLite) hand them to a counting sink standing in for the engine. A plain
paho subscriber in another process only counts what the broker delivers: the broker's own rate in
the same run. At the end: sent (acknowledged by the broker) == accepted + rejected + duplicates.

    python bench/bench_ingest_mqtt.py                      # 30 s at 60,000 measurements/s
    python bench/bench_ingest_mqtt.py --seconds 300        # the 5-minute floor run
    python bench/bench_ingest_mqtt.py --rate 0 --seconds 20    # flat out: where is the ceiling?
    python bench/bench_ingest_mqtt.py --port 1883          # through the system broker instead

By default a throwaway Mosquitto is started (persistence on, max_queued_messages 0, as
docs/ingest.md advises); the system broker on 1883 keeps Mosquitto's default of 1,000 queued
messages per client and is shared with every other test on the machine.
Floor (issue 5): 60,000 measurements/s sustained for 5 minutes with zero loss.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "ingest"))


def tag_id(i: int) -> str:
    return f"t{i:05d}"


def anchor_id(i: int) -> str:
    return f"a{i:04d}"


def pairs(tags: int, per_tag: int, anchors: int) -> list[tuple[str, str]]:
    """Every (tag, anchor) reading of one 1 Hz round: each tag heard by `per_tag` nearby anchors."""
    return [
        (tag_id(t), anchor_id((t // 4 + k) % anchors)) for t in range(tags) for k in range(per_tag)
    ]


def publisher(args: dict[str, Any], index: int, start: Any, done: Any, out: Any) -> None:
    """Publish batches at the target rate (or flat out) for `seconds`; report what was acked."""
    import paho.mqtt.client as paho

    readings = pairs(args["tags"], args["per_tag"], args["anchors"])[index :: args["publishers"]]
    batch = args["batch"]
    rate = args["rate"] / args["publishers"]
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{index}", clean_session=True
    )
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(2000)
    acked = [0]

    def on_publish(c: Any, u: Any, mid: int, rc: Any, props: Any) -> None:
        acked[0] += 1

    client.on_publish = on_publish
    client.connect(args["host"], args["port"], keepalive=30)
    client.loop_start()
    start.wait()
    t_end = time.monotonic() + args["seconds"]
    t0 = time.monotonic()
    sent_meas = bad_meas = messages = pos = 0
    topic = f"minepos/{args['mine']}/ingest/gw-{index}"
    while time.monotonic() < t_end:
        if rate > 0:
            ahead = sent_meas / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        ts = time.time()
        items = []
        bad_msg = args["bad_every"] and messages % args["bad_every"] == 0
        for k in range(batch):
            tag, anchor = readings[pos % len(readings)]
            pos += 1
            if bad_msg and k % 10 == 0:
                tag = "t-unknown"  # a gateway misconfigured: rejected with unknown_tag
                bad_meas += 1
            rng_m = (pos % 9000) / 100
            items.append(f'{{"ts":{ts:.6f},"anchor":"{anchor}","tag":"{tag}","range_m":{rng_m}}}')
        payload = f'{{"gateway":"gw-{index}","measurements":[{",".join(items)}]}}'
        info = client.publish(topic, payload, qos=1)
        while info.rc == paho.MQTT_ERR_QUEUE_SIZE:  # outgoing queue full: wait for acks
            time.sleep(0.001)
            info = client.publish(topic, payload, qos=1)
        messages += 1
        sent_meas += batch
    elapsed = time.monotonic() - t0
    deadline = time.monotonic() + 60
    while acked[0] < messages and time.monotonic() < deadline:
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    out.put(
        {
            "index": index,
            "messages": messages,
            "acked": acked[0],
            "measurements": sent_meas,
            "bad": bad_meas,
            "seconds": elapsed,
            "cpu": time.process_time(),
        }
    )
    done.set()


def raw_counter(args: dict[str, Any], ready: Any, stop: Any, out: Any) -> None:
    """A plain subscriber that only counts messages: the broker's own delivery rate."""
    import paho.mqtt.client as paho

    counts = {"messages": 0, "first": 0.0, "last": 0.0}

    def on_message(c: Any, u: Any, msg: Any) -> None:
        now = time.monotonic()
        if not counts["messages"]:
            counts["first"] = now
        counts["messages"] += 1
        counts["last"] = now

    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id="bench-raw-counter", clean_session=True
    )
    client.on_message = on_message
    client.connect(args["host"], args["port"], keepalive=30)
    client.subscribe(f"minepos/{args['mine']}/ingest/+", qos=1)
    client.loop_start()
    ready.set()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    span = max(1e-9, counts["last"] - counts["first"])
    out.put(
        {"raw": True, "messages": counts["messages"], "seconds": span, "cpu": time.process_time()}
    )


class CountingSink:
    """Stands in for the engine: counts, and records per-second throughput and latency."""

    def __init__(self) -> None:
        self.count = 0
        self.per_second: dict[int, int] = {}
        self.latency: list[float] = []

    def __call__(self, batch: Sequence[Any]) -> None:
        now = time.time()
        self.count += len(batch)
        sec = int(time.monotonic())
        self.per_second[sec] = self.per_second.get(sec, 0) + len(batch)
        if len(self.latency) < 2_000_000:
            self.latency.append(now - batch[-1].ts)


async def consume(args: dict[str, Any], data_dir: Path, start: Any, done: Any) -> dict[str, Any]:
    from prometheus_client import CollectorRegistry

    from minepos.ingest import (
        IngestMetrics,
        IngestPipeline,
        SqliteDeadLetterStore,
        ValidationLimits,
        Validator,
    )
    from minepos.ingest.transports import MqttSource, MqttSourceConfig

    tags = {tag_id(i) for i in range(args["tags"])}
    anchors = {anchor_id(i) for i in range(args["anchors"])}
    sink = CountingSink()
    validator = Validator(tags, anchors, time.time, ValidationLimits(max_age_s=600))
    letters = SqliteDeadLetterStore.in_dir(data_dir)
    pipeline = IngestPipeline(
        sink, validator, dead_letters=letters, metrics=IngestMetrics(CollectorRegistry())
    )
    config = MqttSourceConfig(
        host=args["host"], port=args["port"], mine=args["mine"], client_id="bench-ingest"
    )
    slowest = [0.0, 0.0]  # slowest accept() overall, and of those that kept a dead letter
    accept = pipeline.accept

    def timed_accept(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        rep = accept(*a, **k)
        took = time.perf_counter() - t
        slowest[0] = max(slowest[0], took)
        if rep.rejects:
            slowest[1] = max(slowest[1], took)
        return rep

    pipeline.accept = timed_accept  # type: ignore[method-assign]
    source = MqttSource(config, pipeline)
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    await asyncio.wait_for(source.connected.wait(), 10)
    cpu0 = time.process_time()
    start.set()
    t0 = time.monotonic()
    samples: list[tuple[float, int]] = []  # (seconds since start, measurements processed)
    while not done.is_set():
        await asyncio.sleep(0.2)
        samples.append((time.monotonic() - t0, sum(pipeline.counters().values())))
    return {
        "slowest": slowest,
        "samples": samples,
        "sink": sink,
        "pipeline": pipeline,
        "source": source,
        "stop": stop,
        "task": task,
        "t0": t0,
        "cpu0": cpu0,
        "letters": letters,
    }


async def drain(state: dict[str, Any], expected: int, timeout: float) -> float:
    pipeline = state["pipeline"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total = sum(pipeline.counters().values())
        if total >= expected:
            break
        await asyncio.sleep(0.1)
    t_end = time.monotonic()
    state["stop"].set()
    await state["task"]
    return t_end


def report(
    args: dict[str, Any],
    pubs: list[dict[str, Any]],
    raw: dict[str, Any],
    state: dict[str, Any],
    t_end: float,
) -> bool:
    sink, pipeline = state["sink"], state["pipeline"]
    counts = pipeline.counters()
    accepted = sum(n for (_, k), n in counts.items() if k == "accepted")
    duplicates = sum(n for (_, k), n in counts.items() if k == "duplicate")
    rejected = sum(n for (_, k), n in counts.items() if k not in ("accepted", "duplicate"))
    sent = sum(p["measurements"] for p in pubs)
    messages = sum(p["messages"] for p in pubs)
    acked = sum(p["acked"] for p in pubs)
    bad = sum(p["bad"] for p in pubs)
    pub_secs = max(p["seconds"] for p in pubs)
    secs = sorted(sink.per_second.items())[1:-1]  # whole seconds only
    per_sec = [n for _, n in secs]
    cpu = time.process_time() - state["cpu0"]
    lat = sorted(sink.latency)
    raw_rate = raw["messages"] * args["batch"] / raw["seconds"]
    print(
        f"run: {args['seconds']} s, target {args['rate'] or 'flat out'} measurements/s, "
        f"batches of {args['batch']}, {args['publishers']} publisher(s), broker "
        f"{args['host']}:{args['port']}"
    )
    print(
        f"sent (broker-acked): {sent:,} measurements in {messages:,} messages ({acked:,} acked), "
        f"{sent / pub_secs:,.0f}/s offered"
    )
    print(
        f"broker delivery (plain counting subscriber): {raw['messages']:,} messages, "
        f"{raw_rate:,.0f} measurements/s"
    )
    print(
        f"ingest: accepted {accepted:,} + rejected {rejected:,} (bad sent {bad:,}) + duplicates "
        f"{duplicates:,} = {accepted + rejected + duplicates:,}"
    )
    if per_sec:
        p5 = sorted(per_sec)[len(per_sec) // 20]
        print(
            f"ingest accepted per second: median {statistics.median(per_sec):,.0f}, "
            f"p5 {p5:,.0f}, min {min(per_sec):,.0f}, max {max(per_sec):,.0f} "
            f"over {len(per_sec)} s; "
            f"overall {accepted / (t_end - state['t0']):,.0f}/s"
        )
    if lat:
        print(
            f"latency ts -> engine: p50 {lat[len(lat) // 2] * 1000:.1f} ms, "
            f"p99 {lat[int(len(lat) * 0.99)] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms"
        )
    print(
        f"ingest CPU: {cpu:.1f} s = {cpu / max(1, accepted + rejected) * 1e6:.2f} us/measurement "
        f"(one core's ceiling ~{(accepted + rejected) / max(cpu, 1e-9):,.0f}/s); "
        f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
        f"publisher CPU {sum(p['cpu'] for p in pubs):.1f} s, counter CPU {raw['cpu']:.1f} s"
    )
    t_w, in_window = max(((t, n) for t, n in state["samples"] if t <= pub_secs), default=(1, 0))
    window_rate = in_window / t_w
    backlog_s = (sent * t_w / pub_secs - in_window) / max(sent / pub_secs, 1)
    drained = t_end - state["t0"] - pub_secs
    print(
        f"processed while publishing: {in_window:,} in {t_w:.1f} s = {window_rate:,.0f}/s; backlog "
        f"then {backlog_s:.2f} s of input; drained {max(drained, 0):.1f} s after the last publish"
    )
    lossless = sent == accepted + rejected + duplicates and acked == messages and rejected == bad
    floor = window_rate >= 0.99 * min(60_000, sent / pub_secs) and backlog_s < 5
    print(
        f"zero loss: {'YES' if lossless else 'NO'}; kept up with the offered rate "
        f"(>= 99 % while publishing, backlog < 5 s): {'YES' if floor else 'NO'}"
    )
    slow, slow_dl = (x * 1000 for x in state["slowest"])
    print(
        f"dead letters kept: {state['letters'].count()} (bounded); slowest payload "
        f"{slow:.1f} ms ({slow_dl:.1f} ms with a dead letter)"
    )
    return lossless


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=60_000, help="measurements/s; 0 = flat out")
    parser.add_argument("--batch", type=int, default=100, help="measurements per MQTT message")
    parser.add_argument("--tags", type=int, default=14_000)
    parser.add_argument("--per-tag", type=int, default=4, help="anchors hearing each tag")
    parser.add_argument("--anchors", type=int, default=4_000)
    parser.add_argument("--publishers", type=int, default=1)
    parser.add_argument(
        "--bad-every",
        type=int,
        default=100,
        help="every Nth message carries 10%% unknown tags (0: none)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="use the broker already on this port (e.g. 1883); default: start a throwaway "
        "mosquitto with max_queued_messages 0, as docs/ingest.md advises for the ingest client",
    )
    ns = parser.parse_args()
    args = {**vars(ns), "mine": f"bench{int(time.time())}"}
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        broker = None
        if not ns.port:
            from broker import ThrowawayBroker  # tests/ingest/broker.py

            broker = ThrowawayBroker(Path(tmp))
            broker.start()
            args["port"] = broker.port
        try:
            ok = run(args, ctx, Path(tmp))
        finally:
            if broker is not None:
                broker.stop()
    sys.exit(0 if ok else 1)


def run(args: dict[str, Any], ctx: Any, tmp: Path) -> bool:
    start, stop_raw, raw_ready = ctx.Event(), ctx.Event(), ctx.Event()
    out = ctx.Queue()
    raw = ctx.Process(target=raw_counter, args=(args, raw_ready, stop_raw, out))
    raw.start()
    raw_ready.wait(10)
    dones = [ctx.Event() for _ in range(args["publishers"])]
    pubs = [
        ctx.Process(target=publisher, args=(args, i, start, dones[i], out))
        for i in range(args["publishers"])
    ]
    for p in pubs:
        p.start()

    class AllDone:
        def is_set(self) -> bool:
            return all(d.is_set() for d in dones)

    async def go() -> bool:
        state = await consume(args, tmp, start, AllDone())
        results = [out.get(timeout=120) for _ in pubs]
        expected = sum(r["measurements"] for r in results)
        t_end = await drain(state, expected, 60)
        await asyncio.sleep(0.5)
        stop_raw.set()
        raw_result = out.get(timeout=30)
        try:
            return report(args, results, raw_result, state, t_end)
        finally:
            state["letters"].close()

    try:
        return asyncio.run(go())
    finally:
        for p in [*pubs, raw]:
            p.join(timeout=10)


if __name__ == "__main__":
    main()
