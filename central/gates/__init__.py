"""What central does for the ticket gates: their station feed, and the passages they upload."""
