"""The writer: the one path by which central changes its store, as a thread or a process."""
