"""sitewatch: watch places on Earth with Sentinel-2 and say, with evidence, what changed and when."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sitewatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from sitewatch.aoi import list_aois, list_places, load_aoi, load_gazetteer
from sitewatch.batch import BatchResult, scan_all
from sitewatch.brief import write_brief
from sitewatch.core.change import ChangeParams
from sitewatch.errors import SitewatchError, SitewatchWarning
from sitewatch.pipeline.compare import ChangeResult, compare
from sitewatch.pipeline.scan import ScanResult, scan
from sitewatch.providers.base import get_provider
from sitewatch.providers.cache import cache_entries, fetch_series, remove_cache
from sitewatch.providers.local import find_scenes, load_scenes, open_scene, open_series
from sitewatch.reports import cite_reports, extract_claims, link_claims, load_claims
from sitewatch.types import AOI, Place, Scene

__all__ = [
    "AOI",
    "BatchResult",
    "ChangeParams",
    "ChangeResult",
    "Place",
    "Scene",
    "SitewatchError",
    "SitewatchWarning",
    "__version__",
    "cache_entries",
    "compare",
    "scan",
    "ScanResult",
    "cite_reports",
    "extract_claims",
    "fetch_series",
    "find_scenes",
    "get_provider",
    "link_claims",
    "list_aois",
    "list_places",
    "load_aoi",
    "load_claims",
    "load_gazetteer",
    "load_scenes",
    "open_scene",
    "open_series",
    "remove_cache",
    "scan_all",
    "write_brief",
]
