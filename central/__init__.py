"""StationKit central package."""
