"""Chart test helpers: a week of days to draw, and a PNG's size read from its header (after
checking the signature and the header's CRC)."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta

from bot.render.chart import PNG_SIGNATURE

DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and its CRC."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    body = png[16 : 16 + length]
    (crc,) = struct.unpack(">I", png[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    return width, height
