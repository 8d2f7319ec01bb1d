"""StationKit offline_store package."""
