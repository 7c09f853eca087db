"""Models: inverse filters with their provenance, their file format, and the bundled ones."""
