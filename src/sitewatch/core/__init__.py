"""Pure change core: xarray in, xarray out; no I/O, no providers, no CLI."""
