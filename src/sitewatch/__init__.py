"""sitewatch: watch places on Earth with Sentinel-2 and say, with evidence, what changed and when.

The public API is :data:`__all__`: notebooks, scripts and the command line use only these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sitewatch.version import __version__

if TYPE_CHECKING:
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
    from sitewatch.objects import (
        CHANGE_TYPES,
        ChangeObject,
        ChangeType,
        FacilityRules,
        ObjectParams,
        describe,
    )
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

# PEP 562: a name is imported from its module when first used, so ``import sitewatch`` and
# ``sitewatch --help`` load no heavy library (xarray, rasterio, dask, the reports stack).
_HOMES: dict[str, str] = {
    "Alert": "sitewatch.alerts",
    "alert_from_feature": "sitewatch.alerts",
    "list_aois": "sitewatch.aoi",
    "list_places": "sitewatch.aoi",
    "load_aoi": "sitewatch.aoi",
    "load_gazetteer": "sitewatch.aoi",
    "BatchOptions": "sitewatch.batch",
    "BatchResult": "sitewatch.batch",
    "scan_all": "sitewatch.batch",
    "TYPE_COLOURS": "sitewatch.brief",
    "read_run": "sitewatch.brief",
    "write_brief": "sitewatch.brief",
    "ChangeParams": "sitewatch.core.change",
    "estimate_shift": "sitewatch.core.coregister",
    "HistoryParams": "sitewatch.core.history",
    "break_arrays": "sitewatch.core.history",
    "detect_breaks": "sitewatch.core.history",
    "CLEAR": "sitewatch.core.masks",
    "SNOW": "sitewatch.core.masks",
    "CLOUD": "sitewatch.core.masks",
    "SHADOW": "sitewatch.core.masks",
    "pixel_classes": "sitewatch.core.masks",
    "scl_classes": "sitewatch.core.masks",
    "SurfaceRules": "sitewatch.core.surfaces",
    "SitewatchError": "sitewatch.errors",
    "SitewatchWarning": "sitewatch.errors",
    "CHANGE_TYPES": "sitewatch.objects",
    "ChangeObject": "sitewatch.objects",
    "ChangeType": "sitewatch.objects",
    "ObjectParams": "sitewatch.objects",
    "FacilityRules": "sitewatch.objects",
    "describe": "sitewatch.objects",
    "ChangeResult": "sitewatch.pipeline.compare",
    "compare": "sitewatch.pipeline.compare",
    "ExecutionOptions": "sitewatch.pipeline.options",
    "ScanParams": "sitewatch.pipeline.options",
    "ScanOutputs": "sitewatch.pipeline.result",
    "ScanResult": "sitewatch.pipeline.result",
    "scan": "sitewatch.pipeline.scan",
    "ScanEvent": "sitewatch.pipeline.stages",
    "rgb": "sitewatch.plots",
    "Provider": "sitewatch.providers.base",
    "get_provider": "sitewatch.providers.base",
    "provider_names": "sitewatch.providers.base",
    "register_provider": "sitewatch.providers.base",
    "cache_entries": "sitewatch.providers.cache",
    "fetch_series": "sitewatch.providers.cache",
    "remove_cache": "sitewatch.providers.cache",
    "stack_to_dataarray": "sitewatch.providers.grid",
    "find_scenes": "sitewatch.providers.local",
    "load_scenes": "sitewatch.providers.local",
    "open_scene": "sitewatch.providers.local",
    "open_series": "sitewatch.providers.local",
    "cite_reports": "sitewatch.reports",
    "extract_claims": "sitewatch.reports",
    "link_claims": "sitewatch.reports",
    "load_claims": "sitewatch.reports",
    "Earthworks": "sitewatch.simulate",
    "Evacuation": "sitewatch.simulate",
    "Pad": "sitewatch.simulate",
    "RunwayExtension": "sitewatch.simulate",
    "demo_events": "sitewatch.simulate",
    "random_events": "sitewatch.simulate",
    "score_alerts": "sitewatch.simulate",
    "simulate_site": "sitewatch.simulate",
    "AOI": "sitewatch.types",
    "Place": "sitewatch.types",
    "Scene": "sitewatch.types",
}

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
    "FacilityRules",
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sitewatch' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
