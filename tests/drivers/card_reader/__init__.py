"""Tests of the card reader driver: a package, so its conftest has a module name of its own."""
