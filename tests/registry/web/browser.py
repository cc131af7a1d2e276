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




# axe-core (Deque's accessibility engine), from the test npm packages (tests/interop, installed by
# `scripts/setup --dev`). The pages forbid inline scripts (CSP), so a context that runs it must be made
# with bypass_csp=True.
AXE = Path(__file__).resolve().parents[2] / "interop" / "node_modules" / "axe-core" / "axe.min.js"
# Impacts that fail a test; "minor" and "moderate" findings are printed for a person to judge.
BLOCKING = {"serious", "critical"}


def axe_findings(page: Any, where: str) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it is now, serious or critical ones
    only (the others are printed)."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run scripts/setup --dev (npm ci in tests/interop)")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    for v in found:
        if v["impact"] not in BLOCKING:
            print(f"{where}: {v['impact']} {v['id']}: {v['help']} at {v['nodes']}")
    return [v for v in found if v["impact"] in BLOCKING]
