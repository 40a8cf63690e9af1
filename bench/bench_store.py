"""Store benchmarks: history for 14,000 tags at 1 Hz, an 8-hour track, bytes per tag-hour.

Runs on SQLite (WAL, synchronous=FULL, a file under a temporary directory) and on the
PostgreSQL server at 127.0.0.1:5432 (a fresh database, dropped afterwards), side by side:

1. write: every second ``--tags`` estimates go through the `PositionCompactor` and the single
   writer, a quarter of the people walking (1.2 m/s), the rest standing or working in place.
   Real time is the limit: one simulated second must take under one second of wall time. The
   same is run without compaction (every estimate a row) as the worst case.
2. track: one person's 8-hour track out of ``--people`` people's 8 hours of history; the target
   is under 200 ms.
3. bytes per tag-hour of the compacted history (table plus indexes), beside the raw canonical
   JSON of one estimate per second (what storing everything as received would cost).

    python bench/bench_store.py --tags 14000 --seconds 30 --people 300
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import create_engine, func, select, text

from minepos.engine.estimate import Estimate, Span
from minepos.store import Store
from minepos.store.history import PositionCompactor
from minepos.store.schema import positions

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
T0 = 1_795_323_600.0


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh database URL for the backend, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    name = f"minepos_bench_{secrets.token_hex(4)}"
    admin = create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def estimates(n: int, second: int, rng: np.random.Generator) -> list[Estimate]:
    """One tick of ``n`` tags: a quarter walk at 1.2 m/s, the rest jitter in place."""
    walking = np.arange(n) < n // 4
    offset = np.where(walking, 1.2 * second, 0.0) + np.arange(n) % 2000 + rng.normal(0, 0.3, n)
    now = T0 + second
    return [
        Estimate(
            f"t{i:05d}",
            now,
            f"d{i % 50}",
            float(o),
            (float(o), 0.0, -320.0),
            (Span(f"d{i % 50}", float(o) - 1.0, float(o) + 1.0),),
            2.0,
            1.2,
            now,
        )
        for i, o in enumerate(offset)
    ]


def bench_write(url: str, tags: int, seconds: int, compact: bool) -> dict[str, float]:
    """Wall time per simulated second and rows written, through compactor and writer."""
    rng = np.random.default_rng(1)
    persons = {f"t{i:05d}": f"p{i:05d}" for i in range(tags)}
    ticks = [estimates(tags, s, rng) for s in range(seconds)]  # made before the clock runs
    comp = PositionCompactor() if compact else PositionCompactor(min_move_m=0.0, max_interval_s=0.0)
    rows = 0
    per_tick = []
    with Store(url) as store:
        t0 = time.perf_counter()
        for tick in ticks:
            t = time.perf_counter()
            batch = comp.rows(tick, persons)
            rows += len(batch)
            store.history.add(batch)
            per_tick.append(time.perf_counter() - t)
        store.flush(timeout=600)
        wall = time.perf_counter() - t0
    return {
        "wall_per_s": wall / seconds,
        "rows_per_s": rows / seconds,
        "submit_median_ms": 1000 * statistics.median(per_tick),
    }


def fill_history(store: Store, people: int, hours: float) -> int:
    """``hours`` of compacted history for ``people``, written in time order as live (rows of all
    people interleaved): a row every 2.5 s walking, every 30 s working, half an hour each."""
    rows = 0
    end = T0 + hours * 3600.0
    state = [(T0, 0.0)] * people
    window = T0
    while window < end:
        window += 600.0
        batch: list[dict[str, object]] = []
        for p in range(people):
            ts, off = state[p]
            while ts < min(window, end):
                walking = int((ts - T0) // 1800) % 2 == 0
                batch.append(
                    {
                        "ts": ts,
                        "person": f"p{p:05d}",
                        "tag": f"t{p:05d}",
                        "tunnel": "d3",
                        "offset_m": off,
                        "x": off,
                        "y": 0.0,
                        "z": -320.0,
                        "uncertainty_m": 2.0,
                        "zone": "lw42",
                    }
                )
                ts += 2.5 if walking else 30.0
                off += 3.0 if walking else 0.0
            state[p] = (ts, off)
        batch.sort(key=lambda r: r["ts"])  # type: ignore[arg-type,return-value]
        store.history.add(batch)
        rows += len(batch)
    store.flush(timeout=1200)
    return rows


def table_bytes(store: Store) -> int:
    """Bytes of the positions table with its indexes."""
    with store.db.engine.connect() as conn:
        if store.db.dialect == "postgresql":
            return int(
                conn.execute(text("SELECT pg_total_relation_size('positions')")).scalar_one()
            )
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        q = text(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('positions', "
            "'ix_positions_ts', 'ix_positions_person_ts')"
        )
        return int(conn.execute(q).scalar_one())


def bench_track(url: str, people: int) -> dict[str, float]:
    """Median time of one person's 8-hour track, and the history's size per tag-hour."""
    with Store(url) as store:
        t = time.perf_counter()
        rows = fill_history(store, people, 8.0)
        fill_s = time.perf_counter() - t
        times, lengths = [], []
        for p in np.random.default_rng(2).choice(people, 15, replace=False):
            t = time.perf_counter()
            track = store.history.track(f"p{p:05d}", T0, T0 + 8 * 3600)
            times.append(time.perf_counter() - t)
            lengths.append(len(track))
        with store.db.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(positions)).scalar_one() == rows
        size = table_bytes(store)
    return {
        "rows": rows,
        "fill_rows_per_s": rows / fill_s,
        "track_ms": 1000 * statistics.median(times),
        "track_max_ms": 1000 * max(times),
        "track_points": statistics.median(lengths),
        "bytes_per_row": size / rows,
        "bytes_per_tag_hour": size / (people * 8.0),
    }


def raw_json_bytes_per_tag_hour() -> float:
    """One canonical estimate line (CONTRACT section 5) per second for an hour."""
    line = (
        '{"ts":1795323600.000,"tag":"t00042","tunnel":"headgate42","offset_m":1234.56,'
        '"xyz":[1500.12,634.56,-316.2],"interval":[{"tunnel":"headgate42","from_m":1232.1,'
        '"to_m":1236.9}],"uncertainty_m":4.8}\n'
    )
    return len(line) * 3600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tags", type=int, default=14_000)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--people", type=int, default=300, help="people with 8 h of history")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--skip-write", action="store_true", help="only the track and size part")
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(f"write: {args.tags} tags at 1 Hz for {args.seconds} s (real time = 1.000 s per s)")
    print(f"{'backend':10} {'mode':12} {'wall s per s':>12} {'x real time':>11} {'rows/s':>9}")
    for b in [] if args.skip_write else backends:
        for compact in (True, False):
            with database(b) as url:
                r = bench_write(url, args.tags, args.seconds, compact)
            mode = "compacted" if compact else "every tick"
            print(
                f"{b:10} {mode:12} {r['wall_per_s']:12.3f} {1 / r['wall_per_s']:10.1f}x "
                f"{r['rows_per_s']:9.0f}"
            )
    print(f"\ntrack: one person's 8 h out of {args.people} people's 8 h (target < 200 ms)")
    raw = raw_json_bytes_per_tag_hour()
    for b in backends:
        with database(b) as url:
            r = bench_track(url, args.people)
        print(
            f"{b:10} rows {r['rows']:.0f} (filled at {r['fill_rows_per_s']:.0f}/s), track "
            f"{r['track_points']:.0f} points: median {r['track_ms']:.1f} ms, max "
            f"{r['track_max_ms']:.1f} ms; {r['bytes_per_row']:.0f} B/row, "
            f"{r['bytes_per_tag_hour'] / 1024:.1f} KiB per tag-hour "
            f"(raw JSON at 1 Hz: {raw / 1024:.0f} KiB, {raw / r['bytes_per_tag_hour']:.0f}x more)"
        )


if __name__ == "__main__":
    main()
