"""Central HTTP API (FastAPI): one contract for every selling channel, units and operators."""
