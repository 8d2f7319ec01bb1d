"""A StationKit card (and odd and foreign cards) for pcscd's virtual reader.

Run ``python -m drivers.card_reader.emulator``: it connects to the vsmartcard
vpcd port when a card enters the field and speaks the vpcd protocol, so the
driver reads it through the very PC/SC path a real reader uses. ``card``
holds what each card answers, ``vpcd`` the wire.
"""
