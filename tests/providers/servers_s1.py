"""Loopback servers speaking STAC and Sentinel Hub for Sentinel-1, for the radar provider tests.

Built on the optical servers of ``servers.py`` (HTTP plumbing, OAuth2, failure injection):
``S1StacServer`` publishes radar passes as STAC items (Earth Search / RTC asset names and
``sat:``/``sar:`` properties) with float32 COGs; ``S1SentinelHubServer`` answers the Catalog
API for ``sentinel-1-grd`` (with its CQL2 filters) and renders Process API requests from the
radar test files, checking the S1GRD parameters sitewatch sends.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from servers import SentinelHubServer, StacServer

from sitewatch.providers.local import read_bands
from sitewatch.types import AOI, Scene
from synthetic_s1 import ORBITS, Change, s1_series

S1_CHANGE = Change(slice(20, 40), slice(20, 40), "2023-09-01", -6.0, -4.0)


@dataclass
class RadarPass:
    """One synthetic Sentinel-1 pass written as per-polarisation float32 COGs."""

    id: str
    datetime: dt.datetime
    orbit_direction: str
    relative_orbit: int
    files: dict[str, Path]
    crs: str
    transform: tuple[float, ...]
    shape: tuple[int, int]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        a, _, c, _, e, f = self.transform[:6]
        h, w = self.shape
        return (c, f + e * h, c + a * w, f)

    def footprint_wgs84(self) -> shapely.Polygon:
        tr = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return shapely.box(*tr.transform_bounds(*self.bounds))


def write_passes(folder: Path, stack: xr.DataArray) -> list[RadarPass]:
    """Write each date of a radar stack as one product folder of float32 COGs (``vv.tif``, ``vh.tif``)."""
    gbox = stack.odc.geobox
    passes = []
    for t in range(stack.sizes["time"]):
        one = stack.isel(time=t)
        when = dt.datetime.fromisoformat(str(one.time.values)[:19]).replace(tzinfo=dt.timezone.utc)
        direction = str(one.orbit_direction.values)
        rel = int(one.relative_orbit.values)
        absolute = 58172 + rel  # S1A: relative = (absolute - 73) % 175 + 1, as the product id tells it
        stop = when + dt.timedelta(seconds=25)
        pid = f"S1A_IW_GRDH_1SDV_{when:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_{absolute:06d}_0730C9"
        target = folder / pid
        target.mkdir(parents=True, exist_ok=True)
        files = {}
        for pol in [str(b) for b in one.band.values]:
            path = target / f"{pol.lower()}.tif"
            profile = {
                "driver": "COG",
                "dtype": "float32",
                "count": 1,
                "height": gbox.shape[0],
                "width": gbox.shape[1],
                "crs": str(gbox.crs),
                "transform": gbox.affine,
                "nodata": float("nan"),
                "compress": "deflate",
                "blocksize": 256,
            }
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(one.sel(band=pol).values.astype(np.float32), 1)
            files[pol] = path
        crs = f"EPSG:{gbox.crs.epsg}"
        passes.append(
            RadarPass(pid, when, direction, rel, files, crs, tuple(gbox.affine)[:6], tuple(gbox.shape))
        )
    return passes


def radar_aoi(p: RadarPass, *, inset_m: float = 100.0, size_m: float = 400.0, name: str = "radarsite") -> AOI:
    left, _, _, top = p.bounds
    box = shapely.box(left + inset_m, top - inset_m - size_m, left + inset_m + size_m, top - inset_m)
    tr = pyproj.Transformer.from_crs(p.crs, "EPSG:4326", always_xy=True)
    geom = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return AOI(name=name, display_name=name, geometry=geom, point=(geom.centroid.x, geom.centroid.y))


# --------------------------------------------------------------------------- STAC


class S1StacServer(StacServer):
    """A STAC API whose collection holds Sentinel-1 passes."""

    def __init__(self, *, collection: str = "sentinel-1-rtc", conform_query: bool = True) -> None:
        super().__init__(collection=collection, conform_query=conform_query)

    def add_pass(
        self,
        p: RadarPass,
        *,
        keys: dict[str, str] | None = None,
        grd: bool = False,
        product_type: str = "RTC",
        mode: str = "IW",
        properties: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        keys = keys or {"VV": "vv", "VH": "vh"}
        footprint = p.footprint_wgs84()
        epsg = int(p.crs.split(":")[1])
        assets: dict[str, Any] = {}
        for pol, path in p.files.items():
            url_path = f"/files/{p.id}/{path.name}"
            self.files[url_path] = path
            assets[keys[pol]] = {
                "href": f"http://127.0.0.1:{self.port}{url_path}",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "title": f"{pol} backscatter",
                "proj:shape": list(p.shape),
                "proj:transform": list(p.transform),
                "proj:epsg": epsg,
                "raster:bands": [{"data_type": "float32", "nodata": "nan"}],
            }
            if grd:
                assets[f"schema-calibration-{pol.lower()}"] = {
                    "href": f"http://127.0.0.1:{self.port}/files/{p.id}/calibration-{pol.lower()}.xml",
                    "type": "application/xml",
                    "roles": ["metadata"],
                }
        props = {
            "datetime": p.datetime.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "platform": "sentinel-1a",
            "constellation": "sentinel-1",
            "sar:instrument_mode": mode,
            "sar:polarizations": sorted(p.files, reverse=True),
            "sar:product_type": "GRD" if grd else product_type,
            "sat:orbit_state": p.orbit_direction.lower(),
            "sat:relative_orbit": p.relative_orbit,
            "proj:epsg": epsg,
            **(properties or {}),
        }
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
                "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
            ],
            "id": p.id,
            "collection": self.collection,
            "geometry": shapely.geometry.mapping(footprint),
            "bbox": [round(v, 7) for v in footprint.bounds],
            "properties": props,
            "links": [
                {"rel": "self", "href": f"{self.url}/collections/{self.collection}/items/{p.id}"},
                {"rel": "root", "href": f"{self.url}/"},
            ],
            "assets": assets,
        }
        self.items.append(item)
        self.items.sort(key=lambda i: i["properties"]["datetime"])
        return item


# --------------------------------------------------------------------------- Sentinel Hub


class S1SentinelHubServer(SentinelHubServer):
    """OAuth2, the Catalog API for ``sentinel-1-grd`` and an S1GRD Process API, on 127.0.0.1."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.passes: list[RadarPass] = []

    def add_pass(self, p: RadarPass) -> None:
        self.passes.append(p)
        self.passes.sort(key=lambda q: q.datetime)

    def _feature(self, p: RadarPass) -> dict[str, Any]:
        foot = p.footprint_wgs84()
        absolute = int(p.id.split("_")[6])
        return {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": p.id,
            "geometry": shapely.geometry.mapping(foot),
            "bbox": list(foot.bounds),
            "properties": {
                "datetime": p.datetime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": "sentinel-1a",
                "sat:orbit_state": p.orbit_direction.lower(),
                "sat:absolute_orbit": absolute,
                "sar:instrument_mode": "IW",
                "s1:polarization": "DV" if "VH" in p.files else "SV",
                "s1:resolution": "HIGH",
            },
            "links": [],
            "assets": {},
        }

    def catalog_search(self, h: Any, req: dict[str, Any]) -> None:
        if req.get("collections") != ["sentinel-1-grd"]:
            self.json(
                h, {"error": {"status": 400, "message": f"unknown collection {req.get('collections')}"}}, 400
            )
            return
        lo, _, hi = (req.get("datetime") or "../..").partition("/")
        flt = str(req.get("filter") or "")
        wanted = dict(re.findall(r"([\w:]+)\s*=\s*'([^']*)'", flt))
        features = []
        for p in self.passes:
            if lo not in ("", "..") and p.datetime < dt.datetime.fromisoformat(lo.replace("Z", "+00:00")):
                continue
            if hi not in ("", "..") and p.datetime > dt.datetime.fromisoformat(hi.replace("Z", "+00:00")):
                continue
            if req.get("intersects") and not p.footprint_wgs84().intersects(
                shapely.geometry.shape(req["intersects"])
            ):
                continue
            feature = self._feature(p)
            props = feature["properties"]
            if any(str(props.get(k, "")).lower() != v.lower() for k, v in wanted.items()):
                continue
            features.append(feature)
        limit = int(req.get("limit") or 100)
        start = int(req.get("next") or 0)
        page = features[start : start + limit]
        context: dict[str, Any] = {"limit": limit, "returned": len(page)}
        if start + limit < len(features):
            context["next"] = start + limit
        self.json(h, {"type": "FeatureCollection", "features": page, "links": [], "context": context})

    def process(self, h: Any, req: dict[str, Any]) -> None:
        data_in = req["input"]["data"][0]
        flt, processing = data_in.get("dataFilter", {}), data_in.get("processing", {})
        problems = []
        if data_in.get("type") != "sentinel-1-grd":
            problems.append(f"type {data_in.get('type')}")
        if flt.get("acquisitionMode") != "IW" or flt.get("polarization") not in ("DV", "SV"):
            problems.append(f"dataFilter {flt}")
        if processing.get("backCoeff") not in (
            "SIGMA0_ELLIPSOID",
            "GAMMA0_TERRAIN",
            "GAMMA0_ELLIPSOID",
            "BETA0",
        ):
            problems.append(f"backCoeff {processing.get('backCoeff')}")
        if problems:
            self.json(h, {"error": {"status": 400, "message": "; ".join(problems)}}, 400)
            return
        bounds = req["input"]["bounds"]
        epsg = int(re.search(r"(\d+)$", bounds["properties"]["crs"]).group(1))  # type: ignore[union-attr]
        out = req["output"]
        width, height = int(out["width"]), int(out["height"])
        if width > 2500 or height > 2500:
            self.json(
                h,
                {
                    "error": {
                        "status": 400,
                        "message": "The image width and height cannot exceed 2500 pixels.",
                    }
                },
                400,
            )
            return
        t0 = dt.datetime.fromisoformat(flt["timeRange"]["from"].replace("Z", "+00:00"))
        t1 = dt.datetime.fromisoformat(flt["timeRange"]["to"].replace("Z", "+00:00"))
        direction = flt.get("orbitDirection")
        chosen = [
            p
            for p in self.passes
            if t0 <= p.datetime <= t1 and (direction is None or p.orbit_direction == direction)
        ]
        gbox = GeoBox.from_bbox(bounds["bbox"], f"EPSG:{epsg}", shape=(height, width))
        bands = re.findall(r"sample\.(VV|VH)", req["evalscript"])
        self.process_calls.append(
            {"filter": flt, "processing": processing, "size": (width, height), "bands": bands}
        )
        if chosen:
            values = self._render(chosen[0], bands, gbox)
        else:
            values = np.full((len(bands), height, width), np.nan, np.float32)
        valid = np.isfinite(values).all(axis=0)
        outputs = {
            "bands": self._tiff(np.where(valid[None], values, 0).astype(np.float32), gbox),
            "mask": self._tiff(valid[None].astype(np.uint8), gbox),
        }
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for ident, data in outputs.items():
                info = tarfile.TarInfo(f"{ident}.tif")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        self.send(h, 200, buf.getvalue(), {"Content-Type": "application/tar"})

    @staticmethod
    def _render(p: RadarPass, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """The pass's backscatter on the requested grid, read from its files by the local reader."""
        scene = Scene(
            id=p.id,
            datetime=p.datetime,
            bands=tuple(p.files),
            provider="local-s1",
            location=str(p.files[next(iter(p.files))].parent),
            crs=p.crs,
            bounds=p.bounds,
            shape=p.shape,
            assets={pol: str(path) for pol, path in p.files.items()},
        )
        out: np.ndarray = read_bands(scene, list(bands), gbox)
        return out

    @staticmethod
    def _tiff(arr: np.ndarray, gbox: GeoBox) -> bytes:
        from rasterio.io import MemoryFile

        with MemoryFile() as mem:
            with mem.open(
                driver="GTiff",
                width=arr.shape[2],
                height=arr.shape[1],
                count=arr.shape[0],
                dtype=str(arr.dtype),
                crs=str(gbox.crs),
                transform=gbox.affine,
            ) as dst:
                dst.write(arr)
            return bytes(mem.read())


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def s1_stack() -> xr.DataArray:
    """A 10 x 12-day series of both orbits, 64 x 64 px, with a pad going dark on 1 September 2023."""
    return s1_series(
        shape=(64, 64), n_per_orbit=10, changes=[S1_CHANGE], seed=31, start="2023-07-01", orbits=ORBITS
    )


@pytest.fixture(scope="session")
def s1_passes(tmp_path_factory: pytest.TempPathFactory, s1_stack: xr.DataArray) -> list[RadarPass]:
    return write_passes(tmp_path_factory.mktemp("s1_passes"), s1_stack)


@pytest.fixture
def s1_aoi(s1_passes: list[RadarPass]) -> AOI:
    return radar_aoi(s1_passes[0])


@pytest.fixture
def s1_stac_server(s1_passes: list[RadarPass]) -> Iterator[S1StacServer]:
    server = S1StacServer()
    server.start()
    for p in s1_passes:
        server.add_pass(p)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]


@pytest.fixture
def s1_sh_server(
    s1_passes: list[RadarPass], monkeypatch: pytest.MonkeyPatch
) -> Iterator[S1SentinelHubServer]:
    server = S1SentinelHubServer()
    server.start()
    for p in s1_passes:
        server.add_pass(p)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # test-only: plain-http token URL
    monkeypatch.setenv("SH_CLIENT_ID", server.client_id)
    monkeypatch.setenv("SH_CLIENT_SECRET", server.client_secret)
    monkeypatch.setenv("SH_BASE_URL", server.url)
    monkeypatch.setenv("SH_TOKEN_URL", server.token_url)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]
