"""``sitewatch demo``: simulate a Qasrak-like site over 2024-2025, scan it, show what was found (offline)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from sitewatch.fileio import atomic_write_text

log = logging.getLogger("sitewatch.cli.demo")


@click.command(name="demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("sitewatch-demo"),
    show_default=True,
    help="Folder for the simulated scenes, the alerts, quicklooks and the summary.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Simulator seed.")
@click.option(
    "--size-px",
    type=click.IntRange(min=250, max=600),
    default=300,
    show_default=True,
    help="Width of the simulated square in 10 m pixels (300 = 3 km).",
)
@click.option(
    "--revisit-days",
    type=click.IntRange(min=5, max=20),
    default=5,
    show_default=True,
    help="Nominal revisit of the simulated satellite (10 is quicker, fewer scenes).",
)
@click.option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Link a folder of text reports (e.g. ../shared/reports) to the simulated site: it is then "
    "named qasrak, so the claims about Qasrak apply (still marked SIMULATED everywhere).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a previous demo of other settings in --out (the same demo run again replaces "
    "its own output without it).",
)
@click.option(
    "--timelapse/--no-timelapse",
    default=True,
    show_default=True,
    help="Write a time-lapse GIF per alert beside its quicklook.",
)
@click.option(
    "--sar/--no-sar",
    default=True,
    show_default=True,
    help="Also simulate Sentinel-1 scenes of the site (both orbits, 12-day revisit) and scan them "
    "with the optical ones (every alert's corroboration.sar, radar-only candidates).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    out: Path,
    seed: int,
    size_px: int,
    revisit_days: int,
    reports_dir: Path | None,
    overwrite: bool,
    timelapse: bool,
    sar: bool,
) -> None:
    """Run the whole chain offline on a SIMULATED Qasrak-like site.

    Simulates Sentinel-2 L2A scenes from April 2024 to November 2025 (fields with their
    seasons, haze, clouds and shadows, misregistration, revisit gaps) with the events
    reported at Qasrak: two pads of about 193 m x 94 m and 84 m x 60 m in early 2025,
    expansion earthworks from July 2025, a runway extension, and a compound evacuated in
    autumn 2025, and Sentinel-1 scenes of the same site and events (--no-sar leaves them
    out). Then scans it exactly as `sitewatch scan --sar` would, and writes the alerts
    GeoJSON, one quicklook and one time-lapse per alert, the brief (one offline HTML page
    with the imagery) and a summary that checks the alerts against the simulator's truth.
    Every output says it is simulated.

    Rerunning the same demo replaces its own output; a demo of other settings (seed, size,
    revisit, reports, time-lapses, radar) into a folder holding a previous one refuses unless
    --overwrite is given, so scenes of two simulations are never scanned together.
    """
    import json

    from sitewatch import demo_events, scan, score_alerts, simulate_site, write_brief
    from sitewatch.cli.logs import scan_progress
    from sitewatch.cli.outputs import claim_folder
    from sitewatch.cli.scan import log_outcome, reports_summary, summary

    settings = {
        "seed": seed,
        "size_px": size_px,
        "revisit_days": revisit_days,
        "reports": str(reports_dir.resolve()) if reports_dir else None,
        "timelapse": timelapse,
        "sar": sar,
    }
    claim = claim_folder(
        out,
        "demo",
        settings,
        overwrite=overwrite,
        ours=[
            "alerts.geojson",
            "summary.txt",
            "check.json",
            "brief.html",
            "quicklooks/*.png",
            "quicklooks/*.gif",
            "imagery/*",
            "simulation/**/*",
        ],
    )
    # with reports, the simulated site carries the name the reports' claims resolve to
    site_name = "qasrak" if reports_dir is not None else "qasrak-simulated"

    quiet = bool((ctx.find_root().obj or {}).get("quiet"))

    def say(text: str) -> None:
        if not quiet:
            click.echo(text)

    claim.clear()
    out.mkdir(parents=True, exist_ok=True)
    say(f"simulating a Qasrak-like site (SIMULATED data, seed {seed}) into {out} ...")
    site = simulate_site(
        out / "simulation",
        start="2024-04-01",
        end="2025-11-30",
        events=demo_events(size_px * 10.0),
        center=(40.511955, 36.706242),
        size_px=size_px,
        revisit_days=revisit_days,
        seed=seed,
        name=site_name,
        sar=sar,
    )
    say(f"  {len(site.dates)} scenes written to {site.scenes_dir}")
    if site.radar_dir is not None:
        n_radar = len(list(site.radar_dir.glob("*.tif")))
        say(f"  {n_radar} Sentinel-1 scenes written to {site.radar_dir}")
    say("scanning ...")
    with scan_progress(site.aoi.name, ctx) as on_event:
        result = scan(
            site.aoi,
            f"local:{site.scenes_dir}",
            start="2024-04-01",
            end="2025-11-30",
            on_event=on_event,
            sar=f"local:{site.radar_dir}" if site.radar_dir is not None else None,
        )
    written = result.write(out, quicklooks=True, reports_dir=reports_dir, timelapse=timelapse)
    brief = write_brief(out)
    log_outcome(written)
    alerts_path, collection = written.geojson, written.collection
    truth = json.loads(site.truth_path.read_text(encoding="utf-8"))
    check = score_alerts(collection, truth)
    lines = [summary(result, alerts_path), "", "check against the simulator's truth:"]
    for e in check["events"]:
        if e["found"]:
            got = f"found as {e['alert_type']}, first detected {e.get('date_error_days', '?'):+} days after"
            if "area_error" in e:
                got += f", area off by {e['area_error']:.0%}"
            if "length_error" in e:
                got += f", length off by {e['length_error']:.0%}"
        else:
            got = "MISSED"
        lines.append(f"  {e['date']}  {e['change_type']:<14} {e['name']}: {got}")
    lines.append(f"  false alerts: {check['n_false']}")
    if reports_dir is not None:
        lines += ["", "SIMULATED site linked to real reports:", reports_summary(written.links, alerts_path)]
    text = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.txt", "SIMULATED DATA - sitewatch demo\n" + text)
    atomic_write_text(out / "check.json", json.dumps(check, indent=1))
    claim.record()
    say(text)
    say(f"alerts:     {alerts_path}")
    say(f"quicklooks: {out / 'quicklooks'} (PNG and time-lapse GIF per alert)")
    say(f"brief:      {brief}")
    say(f"export:     sitewatch export {out} --out {out / 'alerts.kmz'}  (Google Earth; .gpkg for QGIS)")
    say(f"summary:    {out / 'summary.txt'}")
    say(f"truth:      {site.truth_path}")
    radar = f" --sar local:{site.radar_dir}" if site.radar_dir is not None else ""
    say(
        f"scan it yourself: sitewatch scan --aoi {site.aoi_path} --source local:{site.scenes_dir} "
        f"--start 2024-04-01 --end 2025-11-30{radar} --out alerts.geojson"
    )
    log.info("wrote %s, %s and %s", out / "summary.txt", out / "check.json", out / "quicklooks")
