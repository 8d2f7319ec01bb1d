"""Central's store revisions, one file each, oldest first (``v0001_baseline``)."""
