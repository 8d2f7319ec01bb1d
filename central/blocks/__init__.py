"""Emergency selling (应急售票): TVM signing keys, seat blocks and their offline sales.

``keys``: a TVM's own Ed25519 key, with the id central gives it, published
to the gates of its station only. ``leases``: the operator leases a TVM
seats of one class on one run for journeys boarding at its station (each a
live sale to the end of the run, owned by the block); unsold seats go back
at the block's return time. ``sales``: what the TVM sold offline becomes
issued tickets when it uploads them, once per ticket id.
"""
