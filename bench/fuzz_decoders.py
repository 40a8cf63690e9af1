"""Fuzz every ingest decoder with random and mutated payloads: no crash, every reject a reason.

    python bench/fuzz_decoders.py --payloads 1000000          # per decoder, seeded mutation engine
    python bench/fuzz_decoders.py --payloads 1000000 --atheris-runs 200000

Engine 1 (always): seeded mutation of the documented frames in tests/fixtures/frames (byte flips,
cuts, inserts, splices; structural replacement of any JSON node), random JSON and random bytes.
Engine 2 (if `atheris` is installed): coverage-guided libFuzzer over all decoders, seeded with the
same frames. Beside the decode rate it prints the bare `orjson.loads` rate on the same payloads
(the floor no JSON decoder can beat).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FRAMES = ROOT / "tests" / "fixtures" / "frames"
NOW = 1763793600.0
TOPICS: list[str | None] = [None, "", "/", "a/b", "ruuvi/x", "x/dwm/node/zz/uplink/location"]
INSERTS = [
    b"-",
    b"0",
    b"1e309",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"\xff",
    b",",
    b":",
    b"\\u0000",
]


def load_seeds() -> dict[str, list[tuple[bytes, str | None]]]:
    seeds: dict[str, list[tuple[bytes, str | None]]] = {}
    for p in sorted(FRAMES.glob("*/*.json")):
        if p.name.endswith(".expect.json"):
            continue
        topic = json.loads(p.with_name(p.name.replace(".json", ".expect.json")).read_text())[
            "topic"
        ]
        seeds.setdefault(p.parent.name, []).append((p.read_bytes(), topic))
        if topic:
            TOPICS.append(topic)
    return seeds


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**63 - 1, rng.randint(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1e308, -1e308, 5e-324, rng.uniform(-1e4, 1e4), NOW])
    if kind in (4, 5):
        return rng.choice(
            [
                "",
                "t1",
                "sos",
                "2025-11-22T06:40:00Z",
                "NaN",
                "\u0000",
                "x" * 70,
                "C8:25:2D:8E:9C:2C",
                "0101010101010142",
                "1763793600",
                "é",
                "\ud7ff",
            ]
        )
    if kind in (6, 7):
        keys = [
            "ts",
            "tag",
            "anchor",
            "range_m",
            "rssi_dbm",
            "event",
            "motion",
            "battery_pct",
            "xyz",
            "measurements",
            "gateway",
            "position",
            "x",
            "y",
            "z",
            "quality",
            "data",
            "tags",
            "gw_mac",
            "rssi",
            "timestamp",
            "deviceInfo",
            "devEui",
            "rxInfo",
            "gatewayId",
            "object",
            "time",
            "nsTime",
        ]
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _nodes(v, (*path, i))
    return out


def structural(rng: random.Random, raw: bytes) -> bytes:
    doc = json.loads(raw)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_nodes(doc))
        if not path:
            doc = random_json(rng)
            continue
        node = doc
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and rng.random() < 0.3:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = random_json(rng)
    return json.dumps(doc).encode()


def bytewise(rng: random.Random, raw: bytes) -> bytes:
    buf = bytearray(raw)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and pos < len(buf):
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 2:
            buf[pos:pos] = rng.choice(INSERTS)
        elif op == 3:
            buf = buf[:pos]
        else:
            start = rng.randrange(len(buf) + 1)
            buf[pos:pos] = buf[start : start + rng.randint(1, 32)]
    return bytes(buf)


def payloads(rng: random.Random, seeds: list[tuple[bytes, str | None]]) -> tuple[bytes, str | None]:
    raw, topic = rng.choice(seeds)
    roll = rng.random()
    if roll < 0.35:
        data = structural(rng, raw)
    elif roll < 0.75:
        data = bytewise(rng, raw)
    elif roll < 0.9:
        data = json.dumps(random_json(rng)).encode()
    else:
        data = rng.randbytes(rng.randint(0, 200))
    if rng.random() < 0.1:
        topic = rng.choice(TOPICS)
    return data, topic


def check(result: Any) -> str | None:
    """The decoder contract; returns what is broken, or None."""
    from minepos.ingest import REASONS, DecodeResult
    from minepos.measurement import Measurement

    if not isinstance(result, DecodeResult) or len(result.indexes) != len(result.measurements):
        return "not a DecodeResult"
    for m in result.measurements:
        if not isinstance(m, Measurement) or type(m.ts) is not float or not m.tag:
            return f"bad measurement {m!r:.200}"
        for v in (m.range_m, m.rssi_dbm, m.battery_pct, *(m.xyz or ())):
            if v is not None and (type(v) is not float or not math.isfinite(v)):
                return f"non-finite value in {m!r:.200}"
    for r in result.rejects:
        if r.code not in REASONS or r.code == "decoder_error" or not r.reason.strip():
            return f"bad reject {r!r:.200}"
    return None


def run_mutation(per_decoder: int, seed: int, only: list[str] | None = None) -> bool:
    import orjson

    from minepos.ingest.decoders import DECODERS
    from minepos.ingest.report import DecodeContext

    all_seeds = load_seeds()
    ok = True
    print(
        f"{'decoder':<11} {'payloads':>9} {'crashes':>7} {'broken':>6} {'meas':>8} "
        f"{'rejects':>8} {'decode/s':>9} {'orjson/s':>9}  top reject codes"
    )
    for name, decoder in sorted(DECODERS.items()):
        if only and name not in only:
            continue
        rng = random.Random(f"{seed}-{name}")
        batch = [payloads(rng, all_seeds[name]) for _ in range(min(per_decoder, 20_000))]
        crashes = broken = meas = 0
        codes: Counter[str] = Counter()
        spent = 0.0
        done = 0
        while done < per_decoder:
            if done and done % len(batch) == 0:
                batch = [payloads(rng, all_seeds[name]) for _ in range(len(batch))]
            data, topic = batch[done % len(batch)]
            t0 = time.perf_counter()
            try:
                result = decoder.decode(data, DecodeContext(NOW, topic))
            except Exception as exc:  # the contract says this never happens
                crashes += 1
                print(f"CRASH {name}: {type(exc).__name__}: {exc} on {data[:200]!r}")
                done += 1
                continue
            spent += time.perf_counter() - t0
            problem = check(result)
            if problem:
                broken += 1
                print(f"BROKEN {name}: {problem} on {data[:200]!r}")
            meas += len(result.measurements)
            codes.update(r.code for r in result.rejects)
            done += 1
        t0 = time.perf_counter()
        for data, _ in batch:
            with contextlib.suppress(orjson.JSONDecodeError):
                orjson.loads(data)
        floor = len(batch) / (time.perf_counter() - t0)
        top = ", ".join(f"{c} {n}" for c, n in codes.most_common(4))
        print(
            f"{name:<11} {done:>9} {crashes:>7} {broken:>6} {meas:>8} {sum(codes.values()):>8} "
            f"{done / spent:>9.0f} {floor:>9.0f}  {top}"
        )
        ok = ok and crashes == 0 and broken == 0
    return ok


def atheris_child() -> None:
    """Run inside libFuzzer: one input picks a decoder and a topic, the rest is the payload."""
    import atheris

    with atheris.instrument_imports():
        from minepos.ingest.decoders import DECODERS
        from minepos.ingest.report import DecodeContext
    names = sorted(DECODERS)
    load_seeds()

    def one_input(data: bytes) -> None:
        if len(data) < 2:
            return
        decoder = DECODERS[names[data[0] % len(names)]]
        topic = TOPICS[data[1] % len(TOPICS)]
        problem = check(decoder.decode(data[2:], DecodeContext(NOW, topic)))
        if problem:
            raise AssertionError(problem)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


def run_atheris(runs: int) -> bool:
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris: not installed, skipped (pip install atheris)")
        return True
    from minepos.ingest.decoders import DECODERS

    names = sorted(DECODERS)
    topics = TOPICS
    with tempfile.TemporaryDirectory() as corpus:
        n = 0
        for name, seeds in load_seeds().items():
            for raw, topic in seeds:
                t = topics.index(topic) if topic in topics else 0
                Path(corpus, f"seed{n}").write_bytes(bytes([names.index(name), t]) + raw)
                n += 1
        cmd = [
            sys.executable,
            __file__,
            "--atheris-child",
            f"-runs={runs}",
            "-max_len=2048",
            "-print_final_stats=1",
            corpus,
        ]
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        took = time.perf_counter() - t0
    tail = [
        ln for ln in proc.stderr.splitlines() if ln.startswith(("Done", "stat::", "===", "cov"))
    ]
    print(
        f"atheris: {runs} coverage-guided runs over {len(names)} decoders in {took:.0f} s "
        f"({runs / took:.0f}/s), exit code {proc.returncode}"
    )
    for line in tail[-8:]:
        print("  " + line)
    if proc.returncode != 0:
        print(proc.stderr[-4000:])
    return proc.returncode == 0


def main() -> None:
    if "--atheris-child" in sys.argv:
        sys.argv.remove("--atheris-child")
        atheris_child()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payloads", type=int, default=20_000, help="mutated payloads per decoder")
    parser.add_argument("--atheris-runs", type=int, default=0, help="libFuzzer runs (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", help="only this decoder (repeatable)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    t0 = time.perf_counter()
    ok = run_mutation(args.payloads, args.seed, args.only)
    if args.atheris_runs:
        ok = run_atheris(args.atheris_runs) and ok
    verdict = "OK: no crash, every reject has a reason" if ok else "FAILED"
    print(f"total {time.perf_counter() - t0:.0f} s: {verdict}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
