"""``sitewatch compare``: what changed between two images."""

from __future__ import annotations

import click

from sitewatch.cli.options import DefaultFrom, aoi_option, echo_json, json_option

# the detector's defaults come from ChangeParams (read when needed), never written here
_CHANGE = "sitewatch.core.change:ChangeParams"


@click.command(name="compare")
@click.argument("before", type=click.Path(exists=True, path_type=str))
@click.argument("after", type=click.Path(exists=True, path_type=str))
@aoi_option
@click.option(
    "--mask-out",
    type=click.Path(dir_okay=False, path_type=str),
    help="uint8 GeoTIFF on BEFORE's 10 m grid: 1 change, 0 no change, 255 no valid data.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=str),
    help="Changed objects as RFC 7946 GeoJSON (WGS84).",
)
@click.option(
    "--quicklook", type=click.Path(dir_okay=False, path_type=str), help="PNG: before, after, change."
)
@click.option(
    "--sensitivity",
    type=click.FloatRange(min=0.05, max=20),
    cls=DefaultFrom,
    default_from=f"{_CHANGE}.sensitivity",
    show_default=True,
    help="Above 1 finds fainter changes, below 1 only strong ones "
    "(threshold = median + 5 MAD / sensitivity).",
)
@click.option(
    "--threshold",
    "threshold_method",
    type=click.Choice(["mad", "otsu"]),
    cls=DefaultFrom,
    default_from=f"{_CHANGE}.threshold_method",
    show_default=True,
    help="Data-driven threshold of the change score: robust median + k MAD, or Otsu.",
)
@click.option(
    "--min-area-m2",
    type=click.FloatRange(min=0),
    cls=DefaultFrom,
    default_from=f"{_CHANGE}.min_area_m2",
    show_default=True,
    help="Minimum mapping unit: smaller objects are dropped (900 m2 = 3 x 3 Sentinel-2 pixels).",
)
@click.option("--no-coregister", is_flag=True, help="Do not estimate or apply a shift between the dates.")
@click.option(
    "--max-shift-px",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="Refuse the pair if the dates are offset by more than this.",
)
@click.option(
    "--cloud-mask",
    type=click.Choice(["auto", "scl", "s2cloudless", "rules"]),
    default="auto",
    show_default=True,
    help="Cloud/shadow masking: SCL when present, else s2cloudless, else spectral rules.",
)
@json_option
def cli(
    before: str,
    after: str,
    aoi_name: str | None,
    mask_out: str | None,
    out: str | None,
    quicklook: str | None,
    sensitivity: float,
    threshold_method: str,
    min_area_m2: float,
    no_coregister: bool,
    max_shift_px: float,
    cloud_mask: str,
    as_json: bool,
) -> None:
    """Compare two dates: BEFORE and AFTER are scenes (multi-band GeoTIFF or per-band folder).

    AFTER is resampled onto BEFORE's grid, co-registered (sub-pixel) and normalised to
    BEFORE's radiometry on unchanged pixels; clouds and shadows are masked; changed
    objects are measured in metres. Prints a summary (shift, threshold, objects).
    """
    from sitewatch import ChangeParams, compare, load_aoi, open_scene

    aoi = load_aoi(aoi_name) if aoi_name else None
    params = ChangeParams(
        sensitivity=sensitivity,
        min_area_m2=min_area_m2,
        threshold_method=threshold_method,  # type: ignore[arg-type]
    )
    before_stack = open_scene(before, aoi=aoi)
    result = compare(
        before_stack,
        after,
        params=params,
        coregister=not no_coregister,
        max_shift_px=max_shift_px,
        mask_method=cloud_mask,
    )
    written = []
    if mask_out:
        written.append(str(result.write_mask(mask_out)))
    if out:
        written.append(str(result.write_geojson(out)))
    if quicklook:
        after_stack = open_scene(after, geobox=before_stack.odc.geobox)
        written.append(str(result.quicklook(quicklook, before=before_stack, after=after_stack)))
    summary = result.summary()
    if as_json:
        echo_json({**summary, "written": written, "timings_s": result.timings_s})
        return
    s = result.shift
    metres = f" ({s.dy_m:+.1f} m, {s.dx_m:+.1f} m)" if s.dy_m is not None and s.dx_m is not None else ""
    click.echo(f"{result.before_date} -> {result.after_date}")
    click.echo(
        f"shift: dy={s.dy:+.2f} px, dx={s.dx:+.2f} px{metres}, tile spread "
        f"{'n/a' if s.tile_spread_px is None else f'{s.tile_spread_px:.2f} px'}, "
        f"{'applied' if s.applied else 'not applied'}"
    )
    click.echo(
        f"clear: before {result.clear_fraction[0]:.1%}, after {result.clear_fraction[1]:.1%}; "
        f"invariant pixels {result.normalization.invariant_fraction:.1%}"
    )
    click.echo(
        f"change: {summary['n_objects']} objects, {summary['changed_area_m2'] / 1e4:.2f} ha, "
        f"{summary['changed_fraction']:.2%} of valid pixels (threshold {result.change.threshold:.3f})"
    )
    for path in written:
        click.echo(f"wrote {path}")
