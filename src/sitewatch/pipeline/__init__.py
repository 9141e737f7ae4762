"""Pipelines: the one place where providers (I/O) meet the pure core and the object stage.

``compare()`` answers "what changed between these two images?"; ``scan()`` watches an
AOI through a time series, as a composition of public stages (:mod:`.stages`) run by one of
two executors (:mod:`.in_memory`, :mod:`.blocks`). Each lives in its own module and is
re-exported here.
"""

from sitewatch.pipeline.compare import ChangeResult, compare
from sitewatch.pipeline.options import ExecutionOptions, ScanParams
from sitewatch.pipeline.result import ScanOutputs, ScanResult
from sitewatch.pipeline.scan import scan
from sitewatch.pipeline.stages import ScanEvent

__all__: list[str] = [
    "ChangeResult",
    "ExecutionOptions",
    "ScanEvent",
    "ScanOutputs",
    "ScanParams",
    "ScanResult",
    "compare",
    "scan",
]
