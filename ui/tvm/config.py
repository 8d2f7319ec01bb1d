"""The TVM kiosk's section of a TVM profile, as a strict pydantic model.

``[kiosk]`` says the touchscreen's size in pixels (the kiosk is laid out for
800x480 and 1280x800 and scales between and around them), the language a
passenger starts in, the font that draws Chinese (by default the Noto Sans SC
that pygame_gui ships, so no system font is needed), whether to open a real
window or draw headless, how many seconds before the idle timeout the
countdown appears, the frame rate, and, for demonstrations and scripted
journeys, a folder where every screen shown is also saved as a PNG. Unknown
keys, numbers out of range and strings where a flag belongs are refused when
the profile loads. This module imports no pygame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Width = Annotated[int, Field(strict=True, ge=640, le=3840)]
Height = Annotated[int, Field(strict=True, ge=400, le=2160)]
Language = Literal["zh", "en"]


class KioskConfig(BaseModel):
    """``[kiosk]`` in a TVM profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: tuple[Width, Height] = (800, 480)
    # the runtime owns the language (the view carries it); this is where a passenger starts
    language: Language = "zh"
    font_path: Path | None = None  # None: the Noto Sans SC shipped with pygame_gui
    windowed: StrictBool = False  # False: headless, drawn offscreen (SDL's dummy video driver)
    idle_warning_s: float = Field(default=20.0, ge=0, le=600)  # countdown shown from here
    fps: int = Field(default=30, strict=True, ge=5, le=120)
    screenshot_dir: Path | None = None  # every view shown is also saved here as a PNG
