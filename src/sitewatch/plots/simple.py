"""Quick figures with matplotlib (Agg backend, files only).

What it offers
--------------
- :func:`rgb` : a true-colour ``(y, x, 3)`` image in 0..1 from a stack, with a robust stretch.
- :func:`change_quicklook` : before, after, and the change mask with object outlines, as one PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from sitewatch.fileio import atomic_output

__all__ = ["change_quicklook", "rgb"]


def rgb(stack: xr.DataArray, *, bands: tuple[str, str, str] = ("B04", "B03", "B02")) -> np.ndarray:
    """True-colour image in 0..1 (2-98 percentile stretch per image), NaN shown black.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(band, y, x)`` or a one-date ``(time, band, y, x)``.
    bands : tuple of str
        Red, green, blue band names.

    Returns
    -------
    numpy.ndarray
        float ``(y, x, 3)``.
    """
    if "time" in stack.dims:
        stack = stack.isel(time=0)
    have = [str(b) for b in stack.coords["band"].values]
    pick = [b if b in have else have[0] for b in bands]
    img = np.stack([stack.sel(band=b).values for b in pick], axis=-1).astype(np.float64)
    finite = np.isfinite(img)
    if finite.any():
        lo, hi = np.nanpercentile(img, [2, 98])
        img = (img - lo) / (hi - lo if hi > lo else 1.0)
    return np.clip(np.nan_to_num(img, nan=0.0), 0, 1)


def change_quicklook(
    path: str | Path,
    before: xr.DataArray,
    after: xr.DataArray,
    mask: xr.DataArray,
    labels: xr.DataArray | np.ndarray | None = None,
    *,
    title: str = "",
    dpi: int = 110,
) -> Path:
    """Write a three-panel PNG: before, after, and the change mask with outlines.

    Parameters
    ----------
    path : str or pathlib.Path
    before, after : xarray.DataArray
        The two images on one grid.
    mask : xarray.DataArray
        uint8 ``(y, x)``: 1 change, 0 no change, 255 no data.
    labels : array-like, optional
        Object labels; their outlines are drawn on all panels.
    title : str
    dpi : int

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import ListedColormap
    from skimage.segmentation import find_boundaries

    m = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask)
    lab = None
    if labels is not None:
        lab = np.asarray(labels.values if isinstance(labels, xr.DataArray) else labels)
    edges = find_boundaries(lab, mode="outer") if lab is not None and lab.any() else None
    h, w = m.shape
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.4 * h / max(w, 1) + 0.8), constrained_layout=True)
    panels = [("before", rgb(before)), ("after", rgb(after))]
    for ax, (name, img) in zip(axes[:2], panels, strict=True):
        shown = img.copy()
        if edges is not None:
            shown[edges] = (1.0, 0.1, 0.8)
        ax.imshow(shown, interpolation="nearest")
        ax.set_title(name)
    cls = np.zeros(m.shape, np.uint8)
    cls[m == 1] = 1
    cls[m == 255] = 2
    cmap = ListedColormap(["#202020", "#ff3030", "#9a9aff"])
    axes[2].imshow(cls, cmap=cmap, vmin=0, vmax=2, interpolation="nearest")
    if edges is not None:
        overlay = np.zeros((*m.shape, 4))
        overlay[edges] = (1.0, 1.0, 0.0, 1.0)
        axes[2].imshow(overlay, interpolation="nearest")
    axes[2].set_title("change (red), no data (blue)")
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    target = Path(path)
    try:
        with atomic_output(target) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
    return target
