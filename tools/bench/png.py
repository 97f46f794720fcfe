"""A minimal PNG canvas: filled rectangles and text in a 5x7 bitmap font, written as an 8-bit RGB PNG with the
standard library (zlib) only, so the chart needs no plotting package. Lower-case letters draw as capitals."""

from __future__ import annotations

import struct
import zlib

Color = tuple[int, int, int]

#: 5x7 glyphs: seven rows of five bits (the high bit is the left pixel), as hex pairs.
_GLYPHS = {
    "0": "0e11131519110e", "1": "040c040404040e", "2": "0e11010204081f", "3": "1f02040201110e",
    "4": "02060a121f0202", "5": "1f101e0101110e", "6": "0608101e11110e", "7": "1f010204080808",
    "8": "0e11110e11110e", "9": "0e11110f01020c", "A": "0e11111f111111", "B": "1e11111e11111e",
    "C": "0e11101010110e", "D": "1c12111111121c", "E": "1f10101e10101f", "F": "1f10101e101010",
    "G": "0e11101711110f", "H": "1111111f111111", "I": "0e04040404040e", "J": "0702020202120c",
    "K": "11121418141211", "L": "1010101010101f", "M": "111b1515111111", "N": "11111915131111",
    "O": "0e11111111110e", "P": "1e11111e101010", "Q": "0e11111115120d", "R": "1e11111e141211",
    "S": "0f10100e01011e", "T": "1f040404040404", "U": "1111111111110e", "V": "11111111110a04",
    "W": "1111111515150a", "X": "11110a040a1111", "Y": "1111110a040404", "Z": "1f01020408101f",
    " ": "00000000000000", "$": "040f140e051e04", "/": "00010204081000", ".": "00000000000c0c",
    ",": "000000000c0408", "-": "0000001f000000", "(": "02040808080402", ")": "08040202020408",
    ":": "000c0c000c0c00", "_": "0000000000001f", "'": "0c040800000000", "?": "0e110102040004",
}
FONT: dict[str, tuple[int, ...]] = {c: tuple(bytes.fromhex(h)) for c, h in _GLYPHS.items()}
GLYPH_W, GLYPH_H = 6, 7  # advance (5 pixels and a gap) and height, before scaling


class Canvas:
    """An RGB image in memory."""

    def __init__(self, width: int, height: int, background: Color = (255, 255, 255)):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: Color) -> None:
        """Fill a rectangle (clipped to the canvas)."""
        x0, y0, x1, y1 = max(0, x), max(0, y), min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start:start + len(row)] = row

    def text(self, x: int, y: int, text: str, color: Color = (0, 0, 0), scale: int = 2) -> int:
        """Draw `text` with its top-left corner at (x, y); returns the x after it."""
        for char in text.upper():
            for row, bits in enumerate(FONT.get(char, FONT["?"])):
                for col in range(5):
                    if bits & (0x10 >> col):
                        self.rect(x + col * scale, y + row * scale, scale, scale, color)
            x += GLYPH_W * scale
        return x

    def png(self) -> bytes:
        """The image as PNG bytes (8-bit RGB, no interlace, filter 0 on every row)."""
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * stride:(y + 1) * stride]) for y in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + \
            _chunk(b"IEND", b"")


def text_width(text: str, scale: int = 2) -> int:
    return len(text) * GLYPH_W * scale


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
