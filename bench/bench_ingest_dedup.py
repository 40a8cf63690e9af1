"""Cost of the shared, locked de-duplicator: pipeline throughput beside an unlocked peer.

The runtime's two ingest lanes share one `Deduplicator`, which takes a lock once per batch.
This runs the same 200 batches of 500 canonical range measurements through an `IngestPipeline`
with the shared de-duplicator and with an unlocked one checking measurement by measurement (the
pipeline before the change), alternating, and prints medians and their ratio.

    python bench/bench_ingest_dedup.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterable

from minepos.ingest.dedup import Deduplicator
from minepos.ingest.pipeline import IngestPipeline
from minepos.ingest.validate import Validator
from minepos.measurement import Measurement

T0 = 1_763_793_600.0
BATCHES, PER_BATCH = 200, 500


class UnlockedDeduplicator(Deduplicator):
    """The peer: no lock, one call per measurement."""

    def unseen(self, measurements: Iterable[Measurement]) -> list[Measurement]:
        """Unseen measurements, checked one by one without the lock."""
        out = []
        for m in measurements:
            key = hash(m)
            if key not in self._current and key not in self._previous:
                self._current.add(key)
                out.append(m)
        return out


def _clock() -> float:
    return T0 + 1.0


def _batches() -> list[bytes]:
    return [
        json.dumps(
            {
                "gateway": "g",
                "measurements": [
                    {
                        "ts": T0 + k * 1e-3 + j * 1e-6,
                        "anchor": f"a{j % 50}",
                        "tag": f"t{j % 2000}",
                        "range_m": 12.5,
                    }
                    for j in range(PER_BATCH)
                ],
            }
        ).encode()
        for k in range(BATCHES)
    ]


def _rate(dedup: Deduplicator, batches: list[bytes]) -> float:
    validator = Validator({f"t{i}" for i in range(2000)}, {f"a{i}" for i in range(50)}, _clock)
    pipe = IngestPipeline(lambda b: None, validator, dedup=dedup)
    t0 = time.perf_counter()
    for b in batches:
        pipe.accept(b, "g", "mqtt")
    return len(batches) * PER_BATCH / (time.perf_counter() - t0)


def main() -> None:
    """Run the comparison and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    batches = _batches()
    shared: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):
        shared.append(_rate(Deduplicator(_clock), batches))
        peer.append(_rate(UnlockedDeduplicator(_clock), batches))
    a, b = statistics.median(shared), statistics.median(peer)
    print(f"shared, locked per batch : {a:,.0f} measurements/s (median of {rounds})")
    print(f"unlocked, per measurement: {b:,.0f} measurements/s (median of {rounds})")
    print(f"ratio shared/unlocked    : {a / b:.3f}")


if __name__ == "__main__":
    main()
