"""Ingest: every transport and vendor format into canonical measurements, or a reject with a reason.

Transports (`minepos.ingest.transports`) only move bytes; decoders (`minepos.ingest.decoders`)
only decode; the `IngestPipeline` validates, de-duplicates, counts, keeps dead letters and hands
accepted batches to the engine.
"""

from __future__ import annotations

from minepos.ingest.deadletters import (
    DeadLetter,
    DeadLetterSink,
    MemoryDeadLetterStore,
    SqliteDeadLetterStore,
)
from minepos.ingest.decoders import DECODERS, Decoder, get_decoder
from minepos.ingest.dedup import Deduplicator
from minepos.ingest.metrics import CONTENT_TYPE, IngestMetrics, render
from minepos.ingest.pipeline import IngestPipeline, Sink
from minepos.ingest.report import REASONS, DecodeContext, DecodeResult, IngestReport, Reject
from minepos.ingest.validate import ValidationLimits, Validator

__all__ = [
    "CONTENT_TYPE",
    "DECODERS",
    "REASONS",
    "DeadLetter",
    "DeadLetterSink",
    "DecodeContext",
    "DecodeResult",
    "Decoder",
    "Deduplicator",
    "IngestMetrics",
    "IngestPipeline",
    "IngestReport",
    "MemoryDeadLetterStore",
    "Reject",
    "Sink",
    "SqliteDeadLetterStore",
    "ValidationLimits",
    "Validator",
    "get_decoder",
    "render",
]
