"""StationKit drivers package."""
