"""``python -m stationkit`` runs the launcher."""

from stationkit.cli import main

main()
