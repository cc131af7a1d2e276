"""What the browser tests share besides fixtures: the test server's handle, viewports, screenshots."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.kit import World

from titlecred.services.context import Registry

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(os.environ.get("TITLECRED_TEST_OUTPUT", Path(__file__).resolve().parents[3] / "test-output"))
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
              "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    registry: Registry
    world: World


class Shots:
    """Takes full-page screenshots into the test's artifact folder: `shots(page, "verdict-valid")`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: Any, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


