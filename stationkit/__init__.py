"""StationKit stationkit package."""
