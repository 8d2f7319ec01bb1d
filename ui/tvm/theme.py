"""The kiosk's pygame_gui theme: ``theme.json`` beside this module, scaled to the screen.

The JSON is written for the 800x480 design; at another size its font sizes,
border widths, corner radii and paddings are multiplied by the screen's
scale before pygame_gui reads it, so 1280x800 looks the same, larger. The
text fields' font is the kiosk's font (Noto Sans SC shipped with pygame_gui,
or the profile's ``font_path``), which draws Chinese and Latin alike. The
``#kiosk`` block holds the colours of the parts the kiosk paints itself.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

THEME_FILE = "theme.json"
BUNDLED_FONT = ("pygame_gui.data", "NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf")
SCALED_MISC = ("border_width", "shape_corner_radius", "shadow_width")


def bundled_font_path(*, bold: bool = False) -> Path:
    """The Noto Sans SC file pygame_gui ships (it draws Chinese and Latin), regular or bold."""
    package, regular, heavy = BUNDLED_FONT
    return Path(str(resources.files(package).joinpath(heavy if bold else regular)))


def theme_data(scale: float, font_path: Path | None) -> dict[str, Any]:
    """The theme as pygame_gui takes it, scaled by ``scale``, its fonts from ``font_path``."""
    raw = json.loads(resources.files("ui.tvm").joinpath(THEME_FILE).read_text("utf-8"))
    theme: dict[str, Any] = copy.deepcopy(raw)
    for block in theme.values():
        if "font" in block:
            block["font"] = _font(block["font"], scale, font_path)
        for key in SCALED_MISC:
            if key in block.get("misc", {}):
                block["misc"][key] = str(round(int(block["misc"][key]) * scale))
        if "padding" in block.get("misc", {}):
            block["misc"]["padding"] = _scaled_pair(block["misc"]["padding"], scale)
    return theme


def _font(font: dict[str, str], scale: float, font_path: Path | None) -> dict[str, Any]:
    # by path, not as a package resource: pygame_gui reads a resource's whole file into memory
    # again for every size (8 MB for Noto Sans SC), a path is opened once per size and streamed
    scaled: dict[str, Any] = {"name": font["name"], "size": str(round(int(font["size"]) * scale))}
    scaled["regular_path"] = str(font_path or bundled_font_path())
    scaled["bold_path"] = str(font_path or bundled_font_path(bold=True))
    return scaled


def _scaled_pair(pair: str, scale: float) -> str:
    return ",".join(str(round(int(part) * scale)) for part in pair.split(","))
