"""From change rasters to described, typed objects (pure, no I/O).

:func:`describe` is the object stage's one entry point; its modules are its parts:
``context`` (what stood on the site before), ``group`` (changed pixels to objects),
``classify`` (the one place a type is decided), ``dating``, ``unmix`` (sub-pixel size),
``evacuation`` (structures lost, pieces folded in), ``facility_loss`` (structures removed,
seen over a whole facility) and ``measure``.
"""

from sitewatch.objects.classify import CHANGE_TYPES, ChangeType, Classification, ObjectFacts, classify_object
from sitewatch.objects.describe import ChangeObject, ObjectParams, describe, paint_labels
from sitewatch.objects.facility_loss import FacilityRules

__all__ = [
    "CHANGE_TYPES",
    "ChangeObject",
    "ChangeType",
    "Classification",
    "FacilityRules",
    "ObjectFacts",
    "ObjectParams",
    "classify_object",
    "describe",
    "paint_labels",
]
