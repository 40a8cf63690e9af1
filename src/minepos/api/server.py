"""Running the whole system in one process: runtime, HTTP server, MQTT source, optional feed.

Ctrl-C (SIGINT) or SIGTERM stops the HTTP server first, then the feed, the MQTT source and the
tick loop, and finally commits what is queued in the store: a clean stop loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from minepos.api.app import create_app
from minepos.api.runtime import Runtime
from minepos.api.settings import ServerSettings
from minepos.errors import InputError
from minepos.ingest.service import IngestConfig, run_sources
from minepos.ingest.transports.mqtt import MqttSourceConfig, broker_address
from minepos.mine import Mine
from minepos.store import Store

__all__ = ["Feed", "run_server"]

log = logging.getLogger(__name__)

_SWITCH_INTERVAL_S = 0.0005
#: young collections every 50,000 allocations, not 700: a tick allocates ~100,000 objects
_GC_THRESHOLDS = (50_000, 20, 100)

#: something that feeds measurements into the pipeline until the event is set (the simulator)
Feed = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


def _ingest_config(settings: ServerSettings, mine: Mine) -> IngestConfig:
    """The MQTT and UDP sources of ``settings``; the runtime's own pipelines take what they hear."""
    mqtt = None
    if settings.mqtt is not None:
        host, port, username, password = broker_address(settings.mqtt)
        mqtt = MqttSourceConfig(
            host=host,
            port=port,
            mine=mine.id,
            username=username,
            password=password,
            subscriptions=settings.mqtt_subscriptions,
        )
    return IngestConfig(mqtt=mqtt, udp=settings.udp)


def _publisher(settings: ServerSettings, mine: Mine) -> object | None:
    if settings.mqtt is None:
        return None
    from minepos.safety.publisher import MqttAlarmPublisher

    return MqttAlarmPublisher(settings.mqtt, mine.id, client_id=f"minepos-{mine.id}-out")


class _Server(uvicorn.Server):
    """uvicorn's server with our own Ctrl-C handling: it re-raises the signal after a graceful
    stop, which would cancel our own shutdown half-way and print tracebacks."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stop)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)

    def _stop(self) -> None:
        if self.should_exit:  # a second Ctrl-C: do not wait for open connections
            self.force_exit = True
        self.should_exit = True


def _uvicorn_config(settings: ServerSettings, app: object) -> uvicorn.Config:
    tls = {}
    if settings.tls_certfile is not None or settings.tls_keyfile is not None:
        if settings.tls_certfile is None or settings.tls_keyfile is None:
            raise InputError("TLS: give both tls_certfile and tls_keyfile")
        tls = {"ssl_certfile": str(settings.tls_certfile), "ssl_keyfile": str(settings.tls_keyfile)}
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        ws_ping_interval=20,
        lifespan="on",
        **tls,  # type: ignore[arg-type]
    )


async def run_server(
    settings: ServerSettings,
    mine: Mine,
    *,
    static_dir: Path | None,
    feed: Feed | None = None,
    on_ready: Callable[[Runtime, int], None] | None = None,
    store: Store | None = None,
    shutdown: threading.Event | None = None,
) -> None:
    """Run everything until Ctrl-C (or ``shutdown`` is set); ``on_ready(runtime, port)`` is
    called once it listens."""
    # The event loop (HTTP, WebSocket, SOS) shares the GIL with the engine and rules threads;
    # switching every 1 ms instead of 5 ms lets it answer sooner when they are busy.
    sys.setswitchinterval(_SWITCH_INTERVAL_S)
    store = store or Store(settings.db)
    publisher = _publisher(settings, mine)
    runtime = Runtime(mine, store, tick_s=settings.tick_s, publisher=publisher)  # type: ignore[arg-type]
    runtime.load_people()
    app = create_app(settings, runtime.services(), static_dir=static_dir)
    server = _Server(_uvicorn_config(settings, app))
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runtime.run(stop), name="minepos-runtime")]
    sources = _ingest_config(settings, mine)
    if sources.mqtt is not None or sources.udp is not None:
        tasks.append(
            asyncio.create_task(run_sources(sources, runtime.pipeline, stop), name="minepos-ingest")
        )
    if feed is not None:
        tasks.append(asyncio.create_task(feed(runtime, stop), name="minepos-feed"))
    # The mine, the engine's tables and the registry live as long as the process: keep the
    # cyclic GC from walking them again and again (a full collection stops every thread).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    watcher = asyncio.create_task(_announce(server, runtime, on_ready, shutdown))
    try:
        await server.serve()
    finally:
        stop.set()
        watcher.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, timeout=10)
        await runtime.close()
        if publisher is not None:
            publisher.close()  # type: ignore[attr-defined]
        store.close()
        log.info("stopped cleanly")


async def _announce(
    server: uvicorn.Server,
    runtime: Runtime,
    on_ready: Callable[[Runtime, int], None] | None,
    shutdown: threading.Event | None,
) -> None:
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1] if server.servers else 0
    if on_ready is not None:
        on_ready(runtime, port)
    while shutdown is not None and not shutdown.is_set():
        await asyncio.sleep(0.1)
    if shutdown is not None:
        server.should_exit = True
