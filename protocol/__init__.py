"""StationKit protocol package."""
