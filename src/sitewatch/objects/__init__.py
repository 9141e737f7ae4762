"""From change rasters to measured, typed objects (pure, no I/O)."""
