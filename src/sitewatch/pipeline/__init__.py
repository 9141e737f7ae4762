"""Pipelines: the one place where providers (I/O) meet the pure core.

``compare()`` answers "what changed between these two images?"; ``scan()`` watches an
AOI through a time series. Each lives in its own module and is re-exported here.
"""

from sitewatch.pipeline.compare import ChangeResult, compare
from sitewatch.pipeline.scan import ScanResult, scan

__all__: list[str] = ["ChangeResult", "ScanResult", "compare", "scan"]
