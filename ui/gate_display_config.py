"""The gate display's section of a gate profile, as a strict pydantic model.

``[display]`` says whether the gate has a passenger screen, its size in
pixels (gate screens are small: 480x320, 800x480 and 1024x600 are common),
the font file that draws Chinese, whether to open a real window, which way
the green arrow points, and, for demonstrations, a folder where every
screen shown is also saved as a PNG. Unknown keys, numbers out of range and
strings where a flag belongs are refused when the profile loads. This
module imports no pygame, so a profile can be checked where no screen is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

DEFAULT_CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
Width = Annotated[int, Field(strict=True, ge=240, le=7680)]
Height = Annotated[int, Field(strict=True, ge=160, le=4320)]


class GateDisplayConfig(BaseModel):
    """``[display]`` in a gate profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: StrictBool = True
    size: tuple[Width, Height] = (800, 480)
    font_path: Path = DEFAULT_CJK_FONT  # a TrueType/OpenType font with Chinese glyphs
    windowed: StrictBool = False  # False: draw offscreen only (headless gate, tests, screenshots)
    arrow: Literal["up", "left", "right"] = "up"  # where the way through is, seen from the screen
    screenshot_dir: Path | None = None  # every screen shown is also saved here as a PNG
