"""Signing keys, verify keys and the key ring: persisted forms and rotation rules."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.keys import KeyRing, SigningKey, VerifyKey


def test_signing_key_survives_its_hex_form() -> None:
    key = SigningKey.generate(3)
    again = SigningKey.from_private_hex(3, key.private_bytes_hex())
    assert again.public_key() == key.public_key()
    assert again.public_key().is_valid_signature(key.sign(b"hello"), b"hello")


def test_verify_key_survives_its_hex_form() -> None:
    public = SigningKey.generate(4).public_key()
    assert VerifyKey.from_public_hex(4, public.public_hex()) == public
    assert len(public.public_hex()) == 64


def test_signature_over_other_bytes_does_not_verify() -> None:
    key = SigningKey.generate(1)
    assert not key.public_key().is_valid_signature(key.sign(b"a"), b"b")


def test_repr_never_shows_the_private_seed() -> None:
    key = SigningKey.generate(9)
    assert key.private_bytes_hex() not in repr(key)


@pytest.mark.parametrize("key_id", [-1, 256, True, "1"])
def test_key_id_must_fit_one_byte(key_id: Any) -> None:
    with pytest.raises(ValueError, match="key id"):
        SigningKey.generate(key_id)


@pytest.mark.parametrize("text", ["", "zz" * 32, "ab" * 31, "ab" * 33])
def test_key_hex_must_be_32_bytes(text: str) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        VerifyKey.from_public_hex(1, text)
    with pytest.raises(ValueError, match="64 hex digits"):
        SigningKey.from_private_hex(1, text)


def test_key_ring_json_round_trips_in_key_id_order() -> None:
    keys = [SigningKey.generate(i).public_key() for i in (5, 1)]
    ring = KeyRing(keys)
    data = ring.to_json_dict()
    assert [entry["key_id"] for entry in data["keys"]] == [1, 5]
    assert data["keys"][0] == {
        "key_id": 1,
        "algorithm": "Ed25519",
        "public_key": keys[1].public_hex(),
    }
    again = KeyRing.from_json_dict(data)
    assert again.key_ids() == [1, 5]
    assert again.get(5) == keys[0] and again.get(2) is None


def test_key_ring_refuses_a_different_key_under_a_known_id() -> None:
    ring = KeyRing([SigningKey.generate(1).public_key()])
    with pytest.raises(ValueError, match="key id 1 already"):
        ring.add(SigningKey.generate(1).public_key())


def test_adding_the_same_key_twice_is_harmless() -> None:
    public = SigningKey.generate(1).public_key()
    ring = KeyRing([public])
    ring.add(VerifyKey.from_public_hex(1, public.public_hex()))
    assert len(ring) == 1 and 1 in ring


GOOD_HEX = "ab" * 32
BAD_RINGS: list[Any] = [
    [],
    {},
    {"keys": "no"},
    {"keys": ["no"]},
    {"keys": [{"key_id": 1, "algorithm": "RSA", "public_key": GOOD_HEX}]},
    {"keys": [{"key_id": "1", "algorithm": "Ed25519", "public_key": GOOD_HEX}]},
    {"keys": [{"key_id": 300, "algorithm": "Ed25519", "public_key": GOOD_HEX}]},
    {"keys": [{"key_id": 1, "algorithm": "Ed25519", "public_key": 5}]},
    {"keys": [{"key_id": 1, "algorithm": "Ed25519", "public_key": "abc"}]},
]


@pytest.mark.parametrize("data", BAD_RINGS, ids=[repr(d)[:40] for d in BAD_RINGS])
def test_bad_key_ring_json_is_refused_with_value_error(data: Any) -> None:
    with pytest.raises(ValueError):
        KeyRing.from_json_dict(data)
