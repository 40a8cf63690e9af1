"""The dispatcher's console: static HTML, CSS and JavaScript served by the API process.

No build step, no CDN, nothing fetched from the internet: the files under ``static/`` are served
as they are. `STATIC_DIR` is handed to `minepos.api.create_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["STATIC_DIR"]

STATIC_DIR: Final = Path(__file__).with_name("static")
