"""A small reader of TensorBoard events files for the tests, needing no TensorBoard: the
TFRecord frames with their checksums checked, and protobuf messages decoded field by field.
The proof that the files are right is elsewhere (PyTorch's bytes, TensorBoard's reader);
this lets a test without TensorBoard look inside one."""
from __future__ import annotations

import struct
from pathlib import Path

from engine.utils.tensorboard.records import masked_crc32c


def records(path: str | Path) -> list[bytes]:
    """The data of each whole record in the file; a last record cut short is left out, as
    TensorBoard's reader leaves it; a bad checksum is an error."""
    data = Path(path).read_bytes()
    out, at = [], 0
    while at + 12 <= len(data):
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[at + 8:at + 12])[0] == masked_crc32c(header), \
            f"bad length checksum at byte {at} of {path}"
        if at + 16 + length > len(data):
            break
        body = data[at + 12:at + 12 + length]
        (crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        assert crc == masked_crc32c(body), f"bad data checksum at byte {at} of {path}"
        out.append(body)
        at += 16 + length
    return out


def _varint(data: bytes, at: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[at]
        n |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if byte < 0x80:
            return n, at


def fields(message: bytes) -> dict[int, list]:
    """A protobuf message as {field number: [values]}: varints as ints, 8-byte fields as
    doubles, 4-byte ones as floats, length-delimited ones as bytes (decode them again with
    fields() when they hold a message)."""
    out: dict[int, list] = {}
    at = 0
    while at < len(message):
        key, at = _varint(message, at)
        wire = key & 7
        if wire == 0:
            value, at = _varint(message, at)
        elif wire == 1:
            (value,), at = struct.unpack("<d", message[at:at + 8]), at + 8
        elif wire == 5:
            (value,), at = struct.unpack("<f", message[at:at + 4]), at + 4
        elif wire == 2:
            length, at = _varint(message, at)
            value, at = message[at:at + length], at + length
        else:
            raise ValueError(f"wire type {wire} is not used in events files")
        out.setdefault(key >> 3, []).append(value)
    return out


def scalars(path: str | Path) -> dict[str, list[tuple[int, float]]]:
    """The simple_value scalars of an events file, {tag: [(step, value)]}, in file order."""
    out: dict[str, list] = {}
    for data in records(path):
        event = fields(data)
        for summary in event.get(5, []):
            for value in fields(summary).get(1, []):
                value = fields(value)
                if 2 in value:
                    out.setdefault(value[1][0].decode(), []).append(
                        (event.get(2, [0])[0], value[2][0]))
    return out
