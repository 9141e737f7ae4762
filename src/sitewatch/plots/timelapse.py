"""Time-lapse of an alert: every clear date around the change, dated, outlined, one stretch.

Frames are drawn with Pillow (a GIF holds pixels, not vector art): the window enlarged to
about :data:`FRAME_PX` pixels with nearest-neighbour (so a pixel stays a pixel), the published
outline, the date and whether the frame is before or after the first detection, a scale bar,
and "SIMULATED" on simulated imagery. imageio writes the animated GIF.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sitewatch.errors import ConfigError

__all__ = ["FRAME_MS", "FRAME_PX", "TimelapseFrame", "png_bytes", "render_frame", "write_timelapse"]

#: Target size of a frame's longer side, pixels.
FRAME_PX = 480
#: Display time of a frame, and of the last one (the end state is held).
FRAME_MS = 600
LAST_FRAME_MS = 2000
_OUTLINE = (0, 229, 255)


@dataclass(frozen=True)
class TimelapseFrame:
    """One date of a time-lapse.

    Attributes
    ----------
    image : numpy.ndarray
        ``(y, x, 3)`` true colour in 0..1 on the site's stretch.
    day : datetime.date
    phase : {"before", "after"}
        Before or from the first detection on.
    """

    image: np.ndarray
    day: dt.date
    phase: Literal["before", "after"]


def png_bytes(rgb_or_rgba: np.ndarray) -> bytes:
    """A ``(y, x, 3|4)`` uint8 array as PNG bytes."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb_or_rgba)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def render_frame(
    frame: TimelapseFrame,
    *,
    outline_px: Sequence[np.ndarray],
    title: str,
    simulated: bool,
    pixel_m: float,
) -> np.ndarray:
    """Draw one frame: ``(Y, X, 3)`` uint8.

    Parameters
    ----------
    frame : TimelapseFrame
    outline_px : sequence of numpy.ndarray
        Rings of the outline as ``(N, 2)`` column, row positions in the window's pixels.
    title : str
    simulated : bool
    pixel_m : float
        Pixel size of the window, metres (for the scale bar).
    """
    from PIL import Image, ImageDraw

    h, w = frame.image.shape[:2]
    scale = max(1, round(FRAME_PX / max(h, w)))
    img = Image.fromarray((frame.image * 255).round().astype(np.uint8)).resize(
        (w * scale, h * scale), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(img)
    for ring in outline_px:
        pts = [(float(c) * scale, float(r) * scale) for c, r in ring]
        draw.line(pts, fill=(0, 0, 0), width=4)
        draw.line(pts, fill=_OUTLINE, width=2)
    big, small = _font(18), _font(13)
    label = f"{frame.day.isoformat()}  {'after' if frame.phase == 'after' else 'before'} first detection"
    draw.rectangle((0, 0, img.width, 44), fill=(0, 0, 0))
    draw.text((8, 3), label, fill=(255, 255, 255), font=big)
    draw.text((8, 25), title, fill=(200, 200, 200), font=small)
    if simulated:
        draw.text((img.width - 110, 5), "SIMULATED", fill=(255, 70, 70), font=big)
    # a round scale bar of about a quarter of the width
    target_m = 0.25 * w * pixel_m
    step = 10 ** int(np.floor(np.log10(target_m)))
    bar_m = step * max(1, int(target_m // step))
    bar_px = bar_m / pixel_m * scale
    y = img.height - 14
    draw.rectangle((8, y - 10, 8 + bar_px + 60, img.height - 2), fill=(0, 0, 0))
    draw.line((12, y, 12 + bar_px, y), fill=(255, 255, 255), width=3)
    draw.text((18 + bar_px, y - 9), f"{bar_m:,.0f} m", fill=(255, 255, 255), font=small)
    return np.asarray(img)


def write_timelapse(
    path: str | os.PathLike[str],
    frames: Sequence[TimelapseFrame],
    *,
    outline_px: Sequence[np.ndarray],
    title: str,
    simulated: bool,
    pixel_m: float,
) -> Path:
    """Write frames as a looping animated GIF, atomically (each frame dated and outlined).

    Parameters
    ----------
    path : path-like
    frames : sequence of TimelapseFrame
        In date order.
    outline_px, title, simulated, pixel_m
        See :func:`render_frame`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If imageio is not installed.
    """
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ConfigError("time-lapses need imageio: pip install imageio") from None
    drawn = np.stack(
        [
            render_frame(f, outline_px=outline_px, title=title, simulated=simulated, pixel_m=pixel_m)
            for f in frames
        ]
    )
    durations = [FRAME_MS] * (len(frames) - 1) + [LAST_FRAME_MS]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".partial.gif", dir=target.parent)
    os.close(fd)
    try:
        iio.imwrite(tmp, drawn, extension=".gif", duration=durations, loop=0)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a time-lapse is for sharing
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
