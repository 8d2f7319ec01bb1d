"""StationKit ui package."""
