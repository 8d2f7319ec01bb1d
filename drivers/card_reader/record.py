"""The holder record on our card: a small BER-TLV structure, and its strict codec.

The holder EF holds one template ``E1 L { C0 01 version; C1 id number;
C2 name; [C3 serial]; [C4 expiry] }`` with definite, minimal BER lengths
(``L`` < 128 in one byte, else ``81 xx`` or ``82 xxxx``). ``encode_record``
serves the emulator and tests; ``decode_record`` serves the gate and trusts
nothing: every length is bounds-checked, the version must come first and be
one we know, every tag must be known and given once, the ID number is 1-32
characters of ``0-9A-Z``, the name UTF-8 without control characters, the
serial printable ASCII, the expiry a real ``YYYYMMDD`` date. Any breach
raises ``OddAnswer`` with a stable reason. ``mask_id_number`` is the only
form of an ID number that may reach a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from drivers.card_reader.errors import OddAnswer, OddAnswerReason

RECORD_VERSION = 1
TAG_TEMPLATE = 0xE1  # private class, constructed: ours, holds the fields
TAG_VERSION = 0xC0  # private class, primitive, from here on
TAG_ID_NUMBER = 0xC1
TAG_NAME = 0xC2
TAG_SERIAL = 0xC3
TAG_EXPIRY = 0xC4
FIELD_TAGS = (TAG_VERSION, TAG_ID_NUMBER, TAG_NAME, TAG_SERIAL, TAG_EXPIRY)
MAX_ID_NUMBER = 32  # characters
MAX_NAME_BYTES = 128  # UTF-8 bytes: 42 CJK characters
MAX_SERIAL = 32  # characters
MAX_RECORD_LENGTH = 512  # the whole template, header included
EXPIRY_LENGTH = 8  # YYYYMMDD
_ID_NUMBER = re.compile(r"[0-9A-Z]{1,32}")
_SERIAL = re.compile(r"[\x21-\x7e]{1,32}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class HolderRecord:
    """Who holds the card. The ID number and name stay out of ``repr`` (logs)."""

    id_number: str = field(repr=False)
    name: str = field(repr=False)
    serial: str | None = None
    expiry: date | None = None
    version: int = RECORD_VERSION

    @property
    def masked_id(self) -> str:
        """The ID number as logs and events may show it."""
        return mask_id_number(self.id_number)


def mask_id_number(id_number: str) -> str:
    """Keep the first three and last two characters, star the rest."""
    if len(id_number) <= 6:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]


def encode_record(record: HolderRecord) -> bytes:
    """The holder EF's content for ``record`` (checked as strictly as decoding)."""
    fields = [
        (TAG_VERSION, bytes((record.version,))),
        (TAG_ID_NUMBER, record.id_number.encode("ascii")),
        (TAG_NAME, record.name.encode("utf-8")),
    ]
    if record.serial is not None:
        fields.append((TAG_SERIAL, record.serial.encode("ascii")))
    if record.expiry is not None:
        fields.append((TAG_EXPIRY, record.expiry.isoformat().replace("-", "").encode()))
    encoded = encode_template(fields)
    decode_record(encoded)  # refuse to write what the gate would refuse to read
    return encoded


def encode_template(fields: list[tuple[int, bytes]]) -> bytes:
    """The template around raw ``(tag, value)`` fields; no checks (tests build odd cards)."""
    return encode_tlv(TAG_TEMPLATE, b"".join(encode_tlv(tag, value) for tag, value in fields))


def encode_tlv(tag: int, value: bytes) -> bytes:
    """One BER-TLV with a one-byte tag and a minimal definite length."""
    return bytes((tag,)) + _encode_length(len(value)) + value


def record_length(prefix: bytes) -> int | None:
    """The whole record's length, once ``prefix`` holds its header; ``None`` before."""
    if not prefix:
        return None
    if prefix[0] != TAG_TEMPLATE:
        raise OddAnswer(
            OddAnswerReason.RECORD_BAD_TEMPLATE,
            f"the holder file starts with {prefix[0]:02X}, not the template tag E1",
        )
    parsed = _parse_length(prefix, 1)
    if parsed is None:
        return None
    content_length, header_length = parsed
    total = header_length + content_length
    if total > MAX_RECORD_LENGTH:
        raise OddAnswer(
            OddAnswerReason.RECORD_TOO_LONG,
            f"the record says {total} bytes; ours are at most {MAX_RECORD_LENGTH}",
        )
    return total


def decode_record(data: bytes) -> HolderRecord:
    """The holder record in ``data``, which must be exactly one template."""
    total = record_length(data)
    if total is None or len(data) < total:
        raise _truncated(f"the record needs {total or 'more'} bytes; {len(data)} came")
    if len(data) > total:
        raise OddAnswer(
            OddAnswerReason.RECORD_BAD_LENGTH,
            f"{len(data) - total} byte(s) follow the record's end",
        )
    header = total - _content_length(data)
    return _holder(_fields(data[header:total]))


def _content_length(data: bytes) -> int:
    parsed = _parse_length(data, 1)
    assert parsed is not None  # record_length has seen the whole header
    return parsed[0]


def _fields(content: bytes) -> dict[int, bytes]:
    fields: dict[int, bytes] = {}
    position = 0
    while position < len(content):
        tag, value, position = _next_field(content, position)
        if not fields and tag != TAG_VERSION:
            raise _version_error(f"the first field is {tag:02X}, not the version C0")
        if tag not in FIELD_TAGS:
            raise OddAnswer(OddAnswerReason.RECORD_UNKNOWN_TAG, f"tag {tag:02X} is not ours")
        if tag in fields:
            raise OddAnswer(OddAnswerReason.RECORD_DUPLICATE_TAG, f"tag {tag:02X} comes twice")
        fields[tag] = value
    return fields


def _next_field(content: bytes, position: int) -> tuple[int, bytes, int]:
    """One field at ``position``: its tag, its value, and where the next one starts."""
    tag = content[position]
    parsed = _parse_length(content, position + 1)
    if parsed is None:
        raise _truncated(f"field {tag:02X} is cut inside its length")
    length, header = parsed
    start = position + header
    if start + length > len(content):
        raise _truncated(f"field {tag:02X} says {length} bytes; {len(content) - start} remain")
    return tag, bytes(content[start : start + length]), start + length


def _holder(fields: dict[int, bytes]) -> HolderRecord:
    version = fields.get(TAG_VERSION)
    if version != bytes((RECORD_VERSION,)):
        shown = "absent" if version is None else version.hex().upper()
        raise _version_error(f"version {shown}; this driver reads version {RECORD_VERSION}")
    for tag, what in ((TAG_ID_NUMBER, "ID number"), (TAG_NAME, "name")):
        if tag not in fields:
            raise OddAnswer(OddAnswerReason.RECORD_MISSING_FIELD, f"the {what} is missing")
    return HolderRecord(
        id_number=_id_number(fields[TAG_ID_NUMBER]),
        name=_name(fields[TAG_NAME]),
        serial=None if TAG_SERIAL not in fields else _serial(fields[TAG_SERIAL]),
        expiry=None if TAG_EXPIRY not in fields else _expiry(fields[TAG_EXPIRY]),
    )


def _id_number(value: bytes) -> str:
    text = value.decode("latin-1")  # every byte maps; the pattern then admits only ASCII
    if not _ID_NUMBER.fullmatch(text):
        raise OddAnswer(
            OddAnswerReason.RECORD_BAD_ID_NUMBER,
            f"an ID number is 1-{MAX_ID_NUMBER} characters of 0-9 and A-Z "
            f"({len(value)} byte(s) came)",
        )
    return text


def _name(value: bytes) -> str:
    if not 1 <= len(value) <= MAX_NAME_BYTES:
        raise _bad_text(f"a name is 1-{MAX_NAME_BYTES} UTF-8 bytes; {len(value)} came")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_text(f"the name is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if _CONTROL.search(text) or not text.strip():
        raise _bad_text("the name holds control characters or only spaces")
    return text


def _serial(value: bytes) -> str:
    text = value.decode("latin-1")
    if not _SERIAL.fullmatch(text):
        raise _bad_text(f"a serial is 1-{MAX_SERIAL} printable ASCII characters")
    return text


def _expiry(value: bytes) -> date:
    text = value.decode("latin-1")
    if len(value) != EXPIRY_LENGTH or not text.isdigit() or not text.isascii():
        raise OddAnswer(OddAnswerReason.RECORD_BAD_EXPIRY, "an expiry is 8 digits, YYYYMMDD")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise OddAnswer(OddAnswerReason.RECORD_BAD_EXPIRY, "the expiry is no real date") from None


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    if length <= 0xFF:
        return bytes((0x81, length))
    if length <= 0xFFFF:
        return bytes((0x82,)) + length.to_bytes(2, "big")
    raise ValueError("a field of our record is under 64 KiB")


def _parse_length(data: bytes, position: int) -> tuple[int, int] | None:
    """``(length, header size)`` of the length at ``position``, after a one-byte tag.

    The header size counts the tag and the length bytes. ``None`` when
    ``data`` ends inside the length; only minimal forms pass.
    """
    if position >= len(data):
        return None
    first = data[position]
    if first < 0x80:
        return first, 2
    size = first & 0x7F
    if size not in (1, 2):
        raise _bad_length(f"length form {first:02X}; ours use 1, 81 xx or 82 xxxx")
    if position + 1 + size > len(data):
        return None
    length = int.from_bytes(data[position + 1 : position + 1 + size], "big")
    if length < (0x80 if size == 1 else 0x100):
        raise _bad_length(f"length {length} is not in its shortest form")
    return length, 2 + size


def _truncated(message: str) -> OddAnswer:
    return OddAnswer(OddAnswerReason.RECORD_TRUNCATED, message)


def _bad_length(message: str) -> OddAnswer:
    return OddAnswer(OddAnswerReason.RECORD_BAD_LENGTH, message)


def _bad_text(message: str) -> OddAnswer:
    return OddAnswer(OddAnswerReason.RECORD_BAD_TEXT, message)


def _version_error(message: str) -> OddAnswer:
    return OddAnswer(OddAnswerReason.RECORD_UNSUPPORTED_VERSION, message)
