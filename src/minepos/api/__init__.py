"""The HTTP API: REST, the WebSocket live stream, users, roles and gateway keys (FastAPI)."""

from minepos.api.app import API_PREFIX, create_app
from minepos.api.hub import LiveHub
from minepos.api.services import LiveView, Services
from minepos.api.settings import ServerSettings, load_settings

__all__ = [
    "API_PREFIX",
    "LiveHub",
    "LiveView",
    "ServerSettings",
    "Services",
    "create_app",
    "load_settings",
]
