"""The engine: tiles, halos, dtype and device for any method; in memory or lazily on dask."""
