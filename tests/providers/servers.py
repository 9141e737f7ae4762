"""Loopback servers speaking the STAC API and Sentinel Hub protocols, for tests and benchmarks.

Both run a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (random port) in a thread,
count what they serve, and can be told to fail (429 with Retry-After, 500, 401,
or drop the connection) on requests whose path matches a pattern.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import re
import socket
import tarfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from odc.geo.geobox import GeoBox
from rasterio.transform import from_origin

from sitewatch.providers.local import find_scenes, load_scenes

S2_10M = ("B02", "B03", "B04", "B08")
S2_20M = ("B8A", "B11", "B12", "SCL")
EARTH_SEARCH_NAMES = {
    "B02": "blue",
    "B03": "green",
    "B04": "red",
    "B08": "nir",
    "B8A": "nir08",
    "B11": "swir16",
    "B12": "swir22",
    "SCL": "scl",
}


# --------------------------------------------------------------------------- test scenes


@dataclass
class SyntheticScene:
    """One synthetic Sentinel-2 L2A acquisition written as per-band COGs."""

    id: str
    datetime: dt.datetime
    folder: Path
    crs: str
    transform10: tuple[float, ...]
    shape10: tuple[int, int]
    cloud_cover: float
    tile: str
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        a, _, c, _, e, f = self.transform10[:6]
        h, w = self.shape10
        return (c, f + e * h, c + a * w, f)

    def footprint_wgs84(self) -> shapely.Polygon:
        tr = pyproj.Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        return shapely.box(*tr.transform_bounds(*self.bounds))


def write_cog(
    path: Path, data: np.ndarray, *, crs: str, transform: Any, tags: dict[str, str] | None = None
) -> None:
    """Write one band as a cloud-optimised GeoTIFF (tiled 256, deflate, overviews)."""
    profile = {
        "driver": "COG",
        "dtype": str(data.dtype),
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": crs,
        "transform": transform,
        "nodata": 0,
        "compress": "deflate",
        "blocksize": 256,
        "overview_resampling": "nearest",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        if tags:
            dst.update_tags(**tags)


def make_scene(
    folder: Path,
    when: str,
    *,
    seed: int = 0,
    crs: str = "EPSG:32637",
    origin: tuple[float, float] = (499_980.0, 4_065_000.0),
    shape10: tuple[int, int] = (600, 600),
    cloud_cover: float = 5.0,
    tile: str = "37SBA",
    platform: str = "S2B",
    baseline: str = "05.10",
    nodata_corner: bool = False,
) -> SyntheticScene:
    """Write a synthetic L2A scene: 10 m bands at 10 m, 20 m bands and SCL at 20 m, +1000 offset."""
    moment = dt.datetime.fromisoformat(when).replace(tzinfo=dt.timezone.utc)
    stamp = moment.strftime("%Y%m%d")
    scene_id = f"{platform}_{tile}_{stamp}_0_L2A"
    target = folder / scene_id
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = shape10
    yy, xx = np.mgrid[0:h, 0:w]
    base = 1500 + 800 * np.sin(xx / 37.0 + seed) * np.cos(yy / 23.0) + rng.normal(0, 30, (h, w))
    x0, y0 = origin
    t10 = from_origin(x0, y0, 10.0, 10.0)
    t20 = from_origin(x0, y0, 20.0, 20.0)
    files = {}
    tags = {"BOA_ADD_OFFSET": "-1000", "PROCESSING_BASELINE": baseline}
    for i, band in enumerate(S2_10M):
        data = np.clip(base * (0.7 + 0.15 * i) + 1000, 1, 20000).astype(np.uint16)
        if nodata_corner:
            data[: h // 4, : w // 4] = 0
        path = target / f"{scene_id}_{band}.tif"
        write_cog(path, data, crs=crs, transform=t10, tags=tags)
        files[band] = path
    coarse = base[::2, ::2]
    for i, band in enumerate(S2_20M):
        if band == "SCL":
            data = np.where(coarse > 1800, 4, 5).astype(np.uint8)
            data[:5, :5] = 9
            btags = {"PROCESSING_BASELINE": baseline}
        else:
            data = np.clip(coarse * (1.1 + 0.2 * i) + 1000, 1, 20000).astype(np.uint16)
            btags = tags
        if nodata_corner:
            data[: h // 8, : w // 8] = 0
        path = target / f"{scene_id}_{band}.tif"
        write_cog(path, data, crs=crs, transform=t20, tags=btags)
        files[band] = path
    return SyntheticScene(
        id=scene_id,
        datetime=moment.replace(hour=8, minute=3, second=11),
        folder=target,
        crs=crs,
        transform10=tuple(t10)[:6],
        shape10=shape10,
        cloud_cover=cloud_cover,
        tile=tile,
        files=files,
    )


# --------------------------------------------------------------------------- base server


@dataclass
class Failure:
    """Answer the next ``times`` requests matching ``pattern`` with ``kind`` instead of the real thing."""

    pattern: str
    kind: str  # "429", "500", "503", "401", "403", "404", "drop", "stall" (accept, never answer)
    times: int = 1
    retry_after: str | None = None
    after: int = 0  # let this many matching requests through first


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with request counting and failure injection."""

    prefix = ""

    def __init__(self) -> None:
        self.log: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.bytes_served = 0
        self.errors: list[str] = []
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes; without this, Nagle + delayed ACK
                # add ~40 ms to every keep-alive request, which no real server suffers.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with server.lock:
                    server.connections.add(self.connection)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._dispatch(self, "GET")

            def do_POST(self) -> None:
                server._dispatch(self, "POST")

            def do_HEAD(self) -> None:
                server._dispatch(self, "HEAD")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        # Keep-alive connections would go on being served by their handler threads.
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    def fail(
        self, pattern: str, kind: str, *, times: int = 1, retry_after: str | None = None, after: int = 0
    ) -> None:
        with self.lock:
            self.failures.append(Failure(pattern, kind, times, retry_after, after))

    def reset_counts(self) -> None:
        with self.lock:
            self.log.clear()
            self.bytes_served = 0
            if hasattr(self, "file_bytes_served"):
                self.file_bytes_served = 0

    def requests(self, pattern: str = "") -> list[dict[str, Any]]:
        return [r for r in self.log if re.search(pattern, r["path"])]

    # -- plumbing

    def _take_failure(self, path: str) -> Failure | None:
        with self.lock:
            for f in self.failures:
                if f.times > 0 and re.search(f.pattern, path):
                    if f.after > 0:
                        f.after -= 1
                        continue
                    f.times -= 1
                    return f
        return None

    def _dispatch(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path
        entry = {
            "method": method,
            "path": path,
            "range": h.headers.get("Range"),
            "body": body,
            "headers": dict(h.headers),
        }
        with self.lock:
            self.log.append(entry)
        failure = self._take_failure(path)
        if failure is not None:
            entry["failed"] = failure.kind
            if failure.kind == "stall":
                # A server that accepted and then sends nothing, ever (until the test ends).
                self.stopping.wait(600)
                h.close_connection = True
                return
            if failure.kind == "drop":
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(2)
                return
            status = int(failure.kind)
            payload = json.dumps(
                {"error": {"status": status, "reason": "injected", "message": "injected failure"}}
            )
            headers = {"Content-Type": "application/json"}
            if failure.retry_after is not None:
                headers["Retry-After"] = failure.retry_after
            self.send(h, status, payload.encode(), headers, head=method == "HEAD")
            return
        try:
            self.handle(h, method, path, body)
        except Exception as exc:  # a bug in the test server: answer 500 with the reason
            import traceback

            self.errors.append(traceback.format_exc())
            self.send(h, 500, json.dumps({"error": repr(exc)}).encode(), {"Content-Type": "application/json"})

    def send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        headers: dict[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if not head:
            h.wfile.write(data)

    def json(
        self, h: BaseHTTPRequestHandler, doc: Any, status: int = 200, content_type: str = "application/json"
    ) -> None:
        self.send(h, status, json.dumps(doc).encode(), {"Content-Type": content_type})

    def handle(self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> None:
        raise NotImplementedError


# --------------------------------------------------------------------------- STAC API


def _bbox_of(geom: shapely.Geometry) -> list[float]:
    return [round(v, 7) for v in geom.bounds]


class StacServer(LoopbackServer):
    """A STAC API (landing, conformance, collections, items, /search GET+POST with paging) and COG files."""

    prefix = "/v1"

    def __init__(self, *, collection: str = "sentinel-2-l2a", conform_query: bool = True) -> None:
        super().__init__()
        self.collection = collection
        self.conform_query = conform_query
        self.items: list[dict[str, Any]] = []
        self.files: dict[str, Path] = {}
        self.file_bytes_served = 0

    # -- content

    def add_scene(
        self,
        scene: SyntheticScene,
        *,
        names: dict[str, str] | None = None,
        raster_offsets: bool = True,
        alias: str | None = None,
        when: dt.datetime | None = None,
        cloud_cover: float | None = None,
    ) -> dict[str, Any]:
        """Publish a test scene as a STAC item (Earth Search v1 asset names by default)."""
        names = names or EARTH_SEARCH_NAMES
        item_id = alias or scene.id
        footprint = scene.footprint_wgs84()
        epsg = int(scene.crs.split(":")[1])
        assets: dict[str, Any] = {}
        for band, path in scene.files.items():
            key = names[band]
            url_path = f"/files/{item_id}/{path.name}"
            self.files[url_path] = path
            res = 10 if band in S2_10M else 20
            h, w = scene.shape10
            shape = [h * 10 // res, w * 10 // res]
            c, f = scene.transform10[2], scene.transform10[5]
            raster: dict[str, Any] = {
                "nodata": 0,
                "data_type": "uint8" if band == "SCL" else "uint16",
                "spatial_resolution": res,
            }
            if raster_offsets and band != "SCL":
                raster.update(scale=0.0001, offset=-0.1)
            assets[key] = {
                "href": f"http://127.0.0.1:{self.port}{url_path}",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
                "title": band,
                "proj:shape": shape,
                "proj:transform": [float(res), 0.0, c, 0.0, -float(res), f],
                "raster:bands": [raster],
                "eo:bands": [{"name": band}],
            }
        assets["thumbnail"] = {
            "href": f"http://127.0.0.1:{self.port}/files/{item_id}/thumb.jpg",
            "type": "image/jpeg",
            "roles": ["thumbnail"],
        }
        item = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            ],
            "id": item_id,
            "collection": self.collection,
            "geometry": shapely.geometry.mapping(footprint),
            "bbox": _bbox_of(footprint),
            "properties": {
                "datetime": (when or scene.datetime).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "platform": "sentinel-2b",
                "constellation": "sentinel-2",
                "eo:cloud_cover": scene.cloud_cover if cloud_cover is None else cloud_cover,
                "proj:epsg": epsg,
                "s2:mgrs_tile": scene.tile,
                "s2:processing_baseline": "05.10",
                "earthsearch:boa_offset_applied": raster_offsets,
            },
            "links": [
                {"rel": "self", "href": f"{self.url}/collections/{self.collection}/items/{item_id}"},
                {"rel": "collection", "href": f"{self.url}/collections/{self.collection}"},
                {"rel": "root", "href": f"{self.url}/"},
            ],
            "assets": assets,
        }
        self.items.append(item)
        self.items.sort(key=lambda i: i["properties"]["datetime"])
        return item

    def landing(self) -> dict[str, Any]:
        return {
            "type": "Catalog",
            "stac_version": "1.0.0",
            "id": "loopback",
            "description": "loopback STAC API for sitewatch tests",
            "conformsTo": self.conformance(),
            "links": [
                {"rel": "self", "href": f"{self.url}/", "type": "application/json"},
                {"rel": "root", "href": f"{self.url}/", "type": "application/json"},
                {"rel": "conformance", "href": f"{self.url}/conformance", "type": "application/json"},
                {"rel": "data", "href": f"{self.url}/collections", "type": "application/json"},
                {
                    "rel": "search",
                    "href": f"{self.url}/search",
                    "type": "application/geo+json",
                    "method": "GET",
                },
                {
                    "rel": "search",
                    "href": f"{self.url}/search",
                    "type": "application/geo+json",
                    "method": "POST",
                },
                {
                    "rel": "child",
                    "href": f"{self.url}/collections/{self.collection}",
                    "type": "application/json",
                },
            ],
        }

    def conformance(self) -> list[str]:
        classes = [
            "https://api.stacspec.org/v1.0.0/core",
            "https://api.stacspec.org/v1.0.0/collections",
            "https://api.stacspec.org/v1.0.0/ogcapi-features",
            "https://api.stacspec.org/v1.0.0/item-search",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        ]
        if self.conform_query:
            classes.append("https://api.stacspec.org/v1.0.0/item-search#query")
        return classes

    def collection_doc(self) -> dict[str, Any]:
        return {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": self.collection,
            "description": "Sentinel-2 L2A (loopback)",
            "license": "proprietary",
            "extent": {
                "spatial": {"bbox": [[-180, -90, 180, 90]]},
                "temporal": {"interval": [["2015-06-27T00:00:00Z", None]]},
            },
            "links": [
                {"rel": "self", "href": f"{self.url}/collections/{self.collection}"},
                {"rel": "root", "href": f"{self.url}/"},
                {"rel": "items", "href": f"{self.url}/collections/{self.collection}/items"},
            ],
        }

    # -- search

    def _match(self, item: dict[str, Any], params: dict[str, Any]) -> bool:
        cols = params.get("collections")
        if cols and item["collection"] not in cols:
            return False
        ids = params.get("ids")
        if ids and item["id"] not in ids:
            return False
        when = dt.datetime.fromisoformat(item["properties"]["datetime"].replace("Z", "+00:00"))
        interval = params.get("datetime")
        if interval:
            lo, _, hi = interval.partition("/")
            if lo and lo != ".." and when < dt.datetime.fromisoformat(lo.replace("Z", "+00:00")):
                return False
            if hi and hi != ".." and when > dt.datetime.fromisoformat(hi.replace("Z", "+00:00")):
                return False
        geom = shapely.geometry.shape(item["geometry"])
        if params.get("intersects") and not geom.intersects(shapely.geometry.shape(params["intersects"])):
            return False
        if params.get("bbox") and not geom.intersects(shapely.box(*params["bbox"])):
            return False
        for prop, ops in (params.get("query") or {}).items():
            value = item["properties"].get(prop)
            for op, ref in ops.items():
                ok = {
                    "eq": lambda v, r: v == r,
                    "neq": lambda v, r: v != r,
                    "lt": lambda v, r: v < r,
                    "lte": lambda v, r: v <= r,
                    "gt": lambda v, r: v > r,
                    "gte": lambda v, r: v >= r,
                }[op](value, ref)
                if not ok:
                    return False
        return True

    def search(self, h: BaseHTTPRequestHandler, method: str, params: dict[str, Any]) -> None:
        limit = int(params.get("limit") or 10)
        start = int(params.get("token") or 0)
        matched = [i for i in self.items if self._match(i, params)]
        page = matched[start : start + limit]
        links: list[dict[str, Any]] = [{"rel": "root", "href": f"{self.url}/"}]
        if start + limit < len(matched):
            if method == "POST":
                links.append(
                    {
                        "rel": "next",
                        "href": f"{self.url}/search",
                        "method": "POST",
                        "body": {"token": str(start + limit)},
                        "merge": True,
                        "type": "application/geo+json",
                    }
                )
            else:
                query = {
                    k: v for k, v in h.path.partition("?")[2] and parse_qs(urlsplit(h.path).query).items()
                }
                query = {k: v[0] for k, v in query.items()}
                query["token"] = str(start + limit)
                from urllib.parse import urlencode

                links.append(
                    {
                        "rel": "next",
                        "href": f"{self.url}/search?{urlencode(query)}",
                        "method": "GET",
                        "type": "application/geo+json",
                    }
                )
        doc = {
            "type": "FeatureCollection",
            "features": page,
            "links": links,
            "numberMatched": len(matched),
            "numberReturned": len(page),
            "context": {"limit": limit, "matched": len(matched), "returned": len(page)},
        }
        self.json(h, doc, content_type="application/geo+json")

    # -- files with Range

    def serve_file(self, h: BaseHTTPRequestHandler, method: str, path: Path) -> None:
        data = path.read_bytes()
        total = len(data)
        rng = h.headers.get("Range")
        headers = {"Content-Type": "image/tiff", "Accept-Ranges": "bytes"}
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m:
                self.send(h, 416, b"", {"Content-Range": f"bytes */{total}"})
                return
            a, b = m.groups()
            if a == "":
                lo, hi = max(0, total - int(b)), total - 1
            else:
                lo, hi = int(a), min(total - 1, int(b) if b else total - 1)
            if lo >= total:
                self.send(h, 416, b"", {"Content-Range": f"bytes */{total}"})
                return
            chunk = data[lo : hi + 1]
            headers["Content-Range"] = f"bytes {lo}-{hi}/{total}"
            self.send(h, 206, chunk, headers, head=method == "HEAD")
        else:
            chunk = data
            self.send(h, 200, chunk, headers, head=method == "HEAD")
        if method != "HEAD":
            with self.lock:
                self.file_bytes_served += len(chunk)
                self.bytes_served += len(chunk)

    def handle(self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> None:
        parts = urlsplit(path)
        route = parts.path
        if route.startswith("/files/"):
            target = self.files.get(route)
            if target is None:
                self.json(h, {"code": "NotFound"}, 404)
            else:
                self.serve_file(h, method, target)
            return
        if not route.startswith(self.prefix):
            self.json(h, {"code": "NotFound"}, 404)
            return
        route = route[len(self.prefix) :].rstrip("/") or "/"
        if route == "/":
            self.json(h, self.landing())
        elif route == "/conformance":
            self.json(h, {"conformsTo": self.conformance()})
        elif route == "/collections":
            self.json(h, {"collections": [self.collection_doc()], "links": []})
        elif route == f"/collections/{self.collection}":
            self.json(h, self.collection_doc())
        elif route.startswith(f"/collections/{self.collection}/items/"):
            item_id = route.rsplit("/", 1)[1]
            found = [i for i in self.items if i["id"] == item_id]
            self.json(h, found[0]) if found else self.json(h, {"code": "NotFound"}, 404)
        elif route == "/search":
            if method == "POST":
                params = json.loads(body or b"{}")
            else:
                raw = {k: v[0] for k, v in parse_qs(parts.query).items()}
                params = dict(raw)
                if "collections" in raw:
                    params["collections"] = raw["collections"].split(",")
                if "ids" in raw:
                    params["ids"] = raw["ids"].split(",")
                if "bbox" in raw:
                    params["bbox"] = [float(v) for v in raw["bbox"].split(",")]
                if "intersects" in raw:
                    params["intersects"] = json.loads(raw["intersects"])
                if "query" in raw:
                    params["query"] = json.loads(raw["query"])
            self.search(h, method, params)
        else:
            self.json(h, {"code": "NotFound", "description": route}, 404)


# --------------------------------------------------------------------------- Sentinel Hub


_BANDS_RE = re.compile(r"bands\s*:\s*\[([^\]]*)\]")


class SentinelHubServer(LoopbackServer):
    """OAuth2 token endpoint, Catalog API 1.0.0 search with ``next`` paging, and the Process API.

    The Process API renders the requested bbox/size/CRS from the test scenes with
    the local reader (for the day of the request's time range), returning a GeoTIFF
    for one output or a TAR of ``<id>.tif`` for several, as the real service does.
    """

    def __init__(self, *, client_id: str = "sitewatch-test", client_secret: str = "s3cr3t-Xy9!") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: set[str] = set()
        self.scenes: list[SyntheticScene] = []
        self.process_calls: list[dict[str, Any]] = []

    @property
    def token_url(self) -> str:
        return f"{self.url}/auth/realms/main/protocol/openid-connect/token"

    def add_scene(self, scene: SyntheticScene) -> None:
        self.scenes.append(scene)
        self.scenes.sort(key=lambda s: s.datetime)

    def feature(self, scene: SyntheticScene) -> dict[str, Any]:
        foot = scene.footprint_wgs84()
        epsg = int(scene.crs.split(":")[1])
        return {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": f"{scene.id.replace('_L2A', '')}_{scene.datetime:%Y%m%dT%H%M%S}",
            "geometry": shapely.geometry.mapping(foot),
            "bbox": list(foot.bounds),
            "properties": {
                "datetime": scene.datetime.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": "sentinel-2b",
                "instruments": ["msi"],
                "constellation": "sentinel-2",
                "gsd": 10,
                "eo:cloud_cover": scene.cloud_cover,
                "proj:epsg": epsg,
                "proj:bbox": list(scene.bounds),
            },
            "links": [],
            "assets": {},
        }

    def _jwt(self) -> str:
        """An access token shaped like the service's (a JWT whose payload names the client in ``azp``).

        sentinelhub reads the payload to key its shared sessions. Each segment is padded with JSON
        whitespace to whole base64 quanta, so it decodes whatever padding rule the reader applies.
        """
        now = int(dt.datetime.now(dt.timezone.utc).timestamp())

        def segment(obj: dict[str, Any]) -> str:
            raw = json.dumps(obj, separators=(",", ":"))
            raw += " " * (-len(raw) % 3)
            return base64.b64encode(raw.encode()).decode()

        claims = {
            "azp": self.client_id,
            "sub": self.client_id,
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        }
        return f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims)}.{uuid.uuid4().hex}"

    def _authorised(self, h: BaseHTTPRequestHandler) -> bool:
        auth = h.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    def handle(self, h: BaseHTTPRequestHandler, method: str, path: str, body: bytes) -> None:
        route = urlsplit(path).path
        if route.endswith("/protocol/openid-connect/token") or route == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if form.get("grant_type") != "client_credentials":
                self.json(h, {"error": "unsupported_grant_type"}, 400)
                return
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                self.json(
                    h, {"error": "invalid_client", "error_description": "Invalid client credentials"}, 401
                )
                return
            token = self._jwt()
            self.tokens.add(token)
            self.json(
                h,
                {
                    "access_token": token,
                    "expires_in": 3600,
                    "token_type": "Bearer",
                    "not-before-policy": 0,
                    "scope": "email profile",
                },
            )
            return
        if not self._authorised(h):
            self.json(
                h,
                {
                    "error": {
                        "status": 401,
                        "reason": "Unauthorized",
                        "message": "You are not authorized! Please provide a valid access token.",
                    }
                },
                401,
            )
            return
        if route == "/api/v1/catalog/1.0.0/search" and method == "POST":
            self.catalog_search(h, json.loads(body or b"{}"))
        elif route == "/api/v1/process" and method == "POST":
            self.process(h, json.loads(body))
        else:
            self.json(h, {"error": {"status": 404, "message": f"no route {route}"}}, 404)

    def catalog_search(self, h: BaseHTTPRequestHandler, req: dict[str, Any]) -> None:
        lo, _, hi = (req.get("datetime") or "../..").partition("/")
        features = []
        for scene in self.scenes:
            if lo not in ("", "..") and scene.datetime < dt.datetime.fromisoformat(lo.replace("Z", "+00:00")):
                continue
            if hi not in ("", "..") and scene.datetime > dt.datetime.fromisoformat(hi.replace("Z", "+00:00")):
                continue
            if req.get("bbox") and not scene.footprint_wgs84().intersects(shapely.box(*req["bbox"])):
                continue
            if req.get("intersects") and not scene.footprint_wgs84().intersects(
                shapely.geometry.shape(req["intersects"])
            ):
                continue
            flt = req.get("filter")
            if isinstance(flt, str):
                m = re.search(r"eo:cloud_cover\s*(<=|<)\s*([\d.]+)", flt)
                if m and not (
                    scene.cloud_cover <= float(m.group(2))
                    if m.group(1) == "<="
                    else scene.cloud_cover < float(m.group(2))
                ):
                    continue
            features.append(self.feature(scene))
        limit = int(req.get("limit") or 100)
        start = int(req.get("next") or 0)
        page = features[start : start + limit]
        context: dict[str, Any] = {"limit": limit, "returned": len(page)}
        if start + limit < len(features):
            context["next"] = start + limit
        self.json(h, {"type": "FeatureCollection", "features": page, "links": [], "context": context})

    def process(self, h: BaseHTTPRequestHandler, req: dict[str, Any]) -> None:
        bounds = req["input"]["bounds"]
        crs_url = bounds["properties"]["crs"]
        epsg = int(re.search(r"(\d+)$", crs_url).group(1))  # type: ignore[union-attr]
        crs = "EPSG:4326" if epsg == 4326 else f"EPSG:{epsg}"
        bbox = bounds["bbox"]
        out = req["output"]
        width, height = int(out["width"]), int(out["height"])
        if width > 2500 or height > 2500:
            self.json(
                h,
                {
                    "error": {
                        "status": 400,
                        "reason": "Bad Request",
                        "message": "The image width and height cannot exceed 2500 pixels.",
                    }
                },
                400,
            )
            return
        data_in = req["input"]["data"][0]
        time_range = data_in.get("dataFilter", {}).get("timeRange", {})
        t0 = dt.datetime.fromisoformat(time_range["from"].replace("Z", "+00:00"))
        t1 = dt.datetime.fromisoformat(time_range["to"].replace("Z", "+00:00"))
        chosen = [s for s in self.scenes if t0 <= s.datetime <= t1]
        gbox = GeoBox.from_bbox(bbox, crs, shape=(height, width))
        evalscript = req["evalscript"]
        band_lists = _BANDS_RE.findall(evalscript)
        inputs = [b.strip().strip("'\"") for b in band_lists[0].split(",")] if band_lists else []
        self.process_calls.append(
            {"bbox": bbox, "crs": crs, "size": (width, height), "bands": inputs, "from": t0}
        )
        s2 = [b for b in inputs if b not in ("dataMask",)]
        if chosen:
            local = [sc for sc in find_scenes(chosen[0].folder)]
            stack = load_scenes(local, geobox=gbox, bands=s2).isel(time=0)
            values = {b: stack.sel(band=b).values for b in s2}
        else:
            values = {b: np.full((height, width), np.nan, np.float32) for b in s2}
        valid = np.zeros((height, width), np.uint8)
        if s2:
            valid = np.isfinite(np.stack([values[b] for b in s2])).all(axis=0).astype(np.uint8)
        outputs = {}
        for response in out["responses"]:
            ident = response["identifier"]
            kind = response["format"]["type"]
            if kind != "image/tiff":
                self.json(h, {"error": {"status": 400, "message": f"format {kind} not supported here"}}, 400)
                return
            # What evaluatePixel returns for this output id: `<id>: [sample.B02, sample.B03]`.
            body_js = evalscript[evalscript.index("function evaluatePixel") :]
            m = re.search(rf"{re.escape(ident)}\s*:\s*\[([^\]]*)\]", body_js)
            names = [n.strip().split(".")[-1] for n in m.group(1).split(",")] if m else []
            arrays = []
            for name in names:
                if name == "dataMask":
                    arrays.append(valid.astype(np.float32))
                else:
                    arrays.append(np.nan_to_num(values[name], nan=0.0))
            sample = re.search(
                rf"id:\s*['\"]{re.escape(ident)}['\"][^}}]*sampleType:\s*['\"]?(\w+)", evalscript
            )
            dtype = {"UINT8": np.uint8, "UINT16": np.uint16, "FLOAT32": np.float32}[
                (sample.group(1) if sample else "FLOAT32").upper()
            ]
            arr = np.stack(arrays).astype(dtype) if arrays else np.zeros((1, height, width), dtype)
            arr = np.where(valid[np.newaxis] == 1, arr, 0).astype(dtype)
            outputs[ident] = self._tiff(arr, gbox)
        if len(outputs) == 1:
            (data,) = outputs.values()
            self.send(h, 200, data, {"Content-Type": "image/tiff"})
        else:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                for ident, data in outputs.items():
                    info = tarfile.TarInfo(f"{ident}.tif")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            self.send(h, 200, buf.getvalue(), {"Content-Type": "application/tar"})

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


# --------------------------------------------------------------------------- helpers


def running(server_cls: Callable[..., LoopbackServer], **kwargs: Any) -> LoopbackServer:
    return server_cls(**kwargs).start()


def aoi_over(
    scene: SyntheticScene, *, inset_m: float = 1000.0, size_m: float = 2000.0, name: str = "testsite"
) -> Any:
    """An AOI (WGS84 box) inside a test scene, ``size_m`` across, ``inset_m`` from its top-left corner."""
    from sitewatch.types import AOI

    left, _, _, top = scene.bounds
    box = shapely.box(left + inset_m, top - inset_m - size_m, left + inset_m + size_m, top - inset_m)
    tr = pyproj.Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    geom = shapely.transform(
        shapely.segmentize(box, 100.0), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    )
    c = geom.centroid
    return AOI(name=name, display_name=name, geometry=geom, point=(c.x, c.y))


def write_aoi_file(directory: Path, aoi: Any) -> Path:
    """Write an AOI as ``<name>.geojson`` in an AOI registry folder."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{aoi.name}.geojson"
    feature = {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(aoi.geometry),
        "properties": {"name": aoi.name, "display_name": aoi.display_name, "location_certainty": "exact"},
    }
    path.write_text(json.dumps(feature))
    return path


# --------------------------------------------------------------------------- pytest fixtures

SERIES_DATES = ("2024-05-01", "2024-05-06", "2024-05-11", "2024-05-16")
SERIES_CLOUDS = (3.0, 12.0, 85.0, 20.0)


@pytest.fixture(scope="session")
def s2_series(tmp_path_factory: pytest.TempPathFactory) -> list[SyntheticScene]:
    """Four synthetic L2A acquisitions (the third 85 % cloudy), written once per session."""
    root = tmp_path_factory.mktemp("s2_series")
    return [
        make_scene(root, when, seed=i, cloud_cover=cloud, nodata_corner=(i == 1))
        for i, (when, cloud) in enumerate(zip(SERIES_DATES, SERIES_CLOUDS, strict=True))
    ]


@pytest.fixture
def site_aoi(s2_series: list[SyntheticScene]) -> Any:
    return aoi_over(s2_series[0])


@pytest.fixture
def stac_server(s2_series: list[SyntheticScene]) -> Iterator[StacServer]:
    server = StacServer()
    server.start()
    for scene in s2_series:
        server.add_scene(scene)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]


@pytest.fixture
def sh_server(
    s2_series: list[SyntheticScene], monkeypatch: pytest.MonkeyPatch
) -> Iterator[SentinelHubServer]:
    server = SentinelHubServer()
    server.start()
    for scene in s2_series:
        server.add_scene(scene)
    # Test-only: oauthlib refuses plain-http token URLs otherwise.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("SH_CLIENT_ID", server.client_id)
    monkeypatch.setenv("SH_CLIENT_SECRET", server.client_secret)
    monkeypatch.setenv("SH_BASE_URL", server.url)
    monkeypatch.setenv("SH_TOKEN_URL", server.token_url)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]


__all__: Sequence[str] = [
    "EARTH_SEARCH_NAMES",
    "s2_series",
    "sh_server",
    "site_aoi",
    "stac_server",
    "LoopbackServer",
    "SentinelHubServer",
    "StacServer",
    "SyntheticScene",
    "aoi_over",
    "make_scene",
    "running",
    "write_aoi_file",
    "write_cog",
]
