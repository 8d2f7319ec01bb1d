"""StationKit device package."""
