"""sitewatch: watch places on Earth with Sentinel-2 and say, with evidence, what changed and when.

The public API is :data:`__all__`: notebooks, scripts and the command line use only these names.
"""

from __future__ import annotations

from sitewatch.alerts import Alert, alert_from_feature
from sitewatch.aoi import list_aois, list_places, load_aoi, load_gazetteer
from sitewatch.batch import BatchOptions, BatchResult, scan_all
from sitewatch.brief import TYPE_COLOURS, read_run, write_brief
from sitewatch.core.change import ChangeParams
from sitewatch.core.coregister import estimate_shift
from sitewatch.core.history import HistoryParams, break_arrays, detect_breaks
from sitewatch.core.masks import CLEAR, CLOUD, SHADOW, SNOW, pixel_classes, scl_classes
from sitewatch.core.surfaces import SurfaceRules
from sitewatch.errors import SitewatchError, SitewatchWarning
from sitewatch.objects import CHANGE_TYPES, ChangeObject, ChangeType, ObjectParams, describe
from sitewatch.pipeline.compare import ChangeResult, compare
from sitewatch.pipeline.options import ExecutionOptions, ScanParams
from sitewatch.pipeline.result import ScanOutputs, ScanResult
from sitewatch.pipeline.scan import scan
from sitewatch.pipeline.stages import ScanEvent
from sitewatch.plots import rgb
from sitewatch.providers.base import Provider, get_provider, provider_names, register_provider
from sitewatch.providers.cache import cache_entries, fetch_series, remove_cache
from sitewatch.providers.grid import stack_to_dataarray
from sitewatch.providers.local import find_scenes, load_scenes, open_scene, open_series
from sitewatch.reports import cite_reports, extract_claims, link_claims, load_claims
from sitewatch.simulate import (
    Earthworks,
    Evacuation,
    Pad,
    RunwayExtension,
    demo_events,
    random_events,
    score_alerts,
    simulate_site,
)
from sitewatch.types import AOI, Place, Scene
from sitewatch.version import __version__

__all__ = [
    "AOI",
    "CHANGE_TYPES",
    "CLEAR",
    "CLOUD",
    "SHADOW",
    "SNOW",
    "TYPE_COLOURS",
    "Alert",
    "BatchOptions",
    "BatchResult",
    "ChangeObject",
    "ChangeParams",
    "ChangeResult",
    "ChangeType",
    "Earthworks",
    "Evacuation",
    "ExecutionOptions",
    "HistoryParams",
    "ObjectParams",
    "Pad",
    "Place",
    "Provider",
    "RunwayExtension",
    "ScanEvent",
    "ScanOutputs",
    "ScanParams",
    "ScanResult",
    "Scene",
    "SitewatchError",
    "SitewatchWarning",
    "SurfaceRules",
    "__version__",
    "alert_from_feature",
    "cache_entries",
    "cite_reports",
    "compare",
    "demo_events",
    "describe",
    "detect_breaks",
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
    "provider_names",
    "random_events",
    "read_run",
    "register_provider",
    "remove_cache",
    "rgb",
    "scan",
    "scan_all",
    "score_alerts",
    "simulate_site",
    "break_arrays",
    "estimate_shift",
    "pixel_classes",
    "scl_classes",
    "stack_to_dataarray",
    "write_brief",
]
