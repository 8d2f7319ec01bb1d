"""The bank terminal simulator: a Concert terminal on a pty, scriptable over its control channel.

Run it as ``python -m drivers.pos.simulator``; ``backend = "sim"`` in the
bank terminal's profile section starts it and opens the real Concert
driver on its line. ``book`` keeps the terminal's journal and totals,
``line`` speaks the terminal's half of Concert on the pty, ``device`` ties
them to the script.
"""
