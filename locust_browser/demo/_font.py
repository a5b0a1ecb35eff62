"""A small TrueType font, drawn by code: segment digits and two icons.

Design note: the shop loads a web font so that a browser user's page fetches
a ``font`` resource as real shops do. Rather than ship a third party's font
file, this module writes one: digits in the manner of a seven-segment
display, a period and a space (for prices and the cart count), a shopping
bag and a cart in the Private Use Area (``U+E000``, ``U+E001``). Every glyph
is a set of straight-edged, clockwise contours, which needs no curves and no
hinting. The tables are the ones browsers' font sanitisers require of a
TrueType font: ``OS/2 cmap glyf head hhea hmtx loca maxp name post``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

__all__ = ["FAMILY", "font"]

FAMILY = "Shop Glyphs"
"""The font's family name, as the ``name`` table gives it."""

_UNITS = 1000
_ASCENT, _DESCENT = 800, -200

Point = tuple[int, int]
Contour = list[Point]

# Seven segments of a digit cell: a top, b top right, c bottom right,
# d bottom, e bottom left, f top left, g middle; as (x0, y0, x1, y1).
_SEGMENTS = {
    "a": (80, 620, 520, 700),
    "b": (440, 350, 520, 700),
    "c": (440, 0, 520, 350),
    "d": (80, 0, 520, 80),
    "e": (80, 0, 160, 350),
    "f": (80, 350, 160, 700),
    "g": (80, 310, 520, 390),
}
_DIGITS = ["abcdef", "bc", "abdeg", "abcdg", "bcfg", "acdfg", "acdefg", "abc"]
_DIGITS += ["abcdefg", "abcdfg"]


def _box(x0: int, y0: int, x1: int, y1: int) -> Contour:
    # Clockwise with y up, as TrueType wants outer contours.
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


def _glyphs() -> list[tuple[int | None, int, list[Contour]]]:
    """Return ``(code point, advance width, contours)`` in glyph id order."""
    notdef = [_box(50, 0, 550, 700), _box(100, 50, 500, 650)[::-1]]
    glyphs: list[tuple[int | None, int, list[Contour]]] = [
        (None, 600, notdef),
        (ord(" "), 300, []),
        (ord("."), 220, [_box(60, 0, 160, 100)]),
    ]
    for digit, segments in enumerate(_DIGITS):
        if digit == 1:
            # Drawn at the right of a full cell, a one would stand apart from
            # the figure before it: it is a single bar in a narrow cell.
            glyphs.append((ord("1"), 300, [_box(110, 0, 190, 700)]))
            continue
        contours = [_box(*_SEGMENTS[name]) for name in segments]
        glyphs.append((ord("0") + digit, 600, contours))
    bag = [
        _box(100, 0, 900, 600),
        _box(280, 560, 350, 820),
        _box(650, 560, 720, 820),
        _box(280, 760, 720, 820),
    ]
    basket = [(150, 650), (950, 650), (850, 300), (250, 300)]
    cart = [
        basket,
        _box(20, 700, 190, 780),
        _box(120, 560, 190, 780),
        _box(250, 200, 850, 260),
        _box(280, 40, 400, 160),
        _box(700, 40, 820, 160),
    ]
    glyphs += [(0xE000, 1000, bag), (0xE001, 1000, cart)]
    return glyphs


def font() -> bytes:
    """Return the font file's bytes."""
    glyphs = _glyphs()
    outlines = [_outline(contours) for _, _, contours in glyphs]
    boxes = [_bounds(contours) for _, _, contours in glyphs]
    drawn = [box for box in boxes if box is not None]
    bounds = (
        min(box[0] for box in drawn),
        min(box[1] for box in drawn),
        max(box[2] for box in drawn),
        max(box[3] for box in drawn),
    )
    loca, offset = [], 0
    for outline in outlines:
        loca.append(offset)
        offset += len(outline)
    loca.append(offset)
    advances = [advance for _, advance, _ in glyphs]
    bearings = [box[0] if box else 0 for box in boxes]
    tables = {
        "OS/2": _os2(glyphs, bounds),
        "cmap": _cmap(glyphs),
        "glyf": b"".join(outlines),
        "head": _head(bounds),
        "hhea": _hhea(advances, boxes),
        "hmtx": b"".join(
            struct.pack(">Hh", advance, bearing)
            for advance, bearing in zip(advances, bearings, strict=True)
        ),
        "loca": struct.pack(f">{len(loca)}I", *loca),
        "maxp": _maxp(glyphs),
        "name": _name(),
        "post": struct.pack(">IihhIIIII", 0x00030000, 0, -100, 50, 0, 0, 0, 0, 0),
    }
    return _sfnt(tables)


def _bounds(contours: Sequence[Contour]) -> tuple[int, int, int, int] | None:
    points = [point for contour in contours for point in contour]
    if not points:
        return None
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _outline(contours: Sequence[Contour]) -> bytes:
    """Encode a simple glyph: on-curve points, coordinates as 16-bit deltas."""
    box = _bounds(contours)
    if box is None:
        return b""
    ends, count = [], 0
    for contour in contours:
        count += len(contour)
        ends.append(count - 1)
    points = [point for contour in contours for point in contour]
    # Each coordinate is stored relative to the previous point's.
    previous = [(0, 0), *points[:-1]]
    xs = [x - x0 for (x, _), (x0, _) in zip(points, previous, strict=True)]
    ys = [y - y0 for (_, y), (_, y0) in zip(points, previous, strict=True)]
    data = struct.pack(">hhhhh", len(contours), *box)
    data += struct.pack(f">{len(ends)}HH", *ends, 0)
    data += bytes([0x01] * len(points))
    data += struct.pack(f">{len(xs)}h{len(ys)}h", *xs, *ys)
    return data + b"\0" * (-len(data) % 4)


def _cmap(glyphs: Sequence[tuple[int | None, int, list[Contour]]]) -> bytes:
    """Write a format 4 subtable, one segment per run of code points."""
    segments: list[list[int]] = []
    for glyph_id, (code, _, _) in enumerate(glyphs):
        if code is None:
            continue
        if (
            segments
            and segments[-1][1] == code - 1
            and segments[-1][2] == (glyph_id - code)
        ):
            segments[-1][1] = code
        else:
            segments.append([code, code, glyph_id - code])
    segments.append([0xFFFF, 0xFFFF, 1])
    count = len(segments)
    search = 2 ** (count.bit_length() - 1)
    subtable = struct.pack(
        ">HHHH", count * 2, search * 2, search.bit_length() - 1, (count - search) * 2
    )
    subtable += struct.pack(f">{count}H", *(end for _, end, _ in segments))
    subtable += struct.pack(f">H{count}H", 0, *(start for start, _, _ in segments))
    subtable += struct.pack(f">{count}H", *(delta % 0x10000 for *_, delta in segments))
    subtable += struct.pack(f">{count}H", *([0] * count))
    subtable = struct.pack(">HHH", 4, 6 + len(subtable), 0) + subtable
    # Two encoding records, Unicode and Windows BMP, share the subtable.
    return struct.pack(">HHHHIHHI", 0, 2, 0, 3, 20, 3, 1, 20) + subtable


def _head(bounds: tuple[int, int, int, int]) -> bytes:
    # 2024-01-01 in seconds since 1904, the epoch of the format.
    stamp = 3_786_912_000
    return struct.pack(
        ">IIIIHHqqhhhhHHhhh",
        *(0x00010000, 0x00010000, 0, 0x5F0F3CF5, 0b11, _UNITS, stamp, stamp),
        *(*bounds, 0, 8, 2, 1, 0),
    )


def _hhea(
    advances: Sequence[int],
    boxes: Sequence[tuple[int, int, int, int] | None],
) -> bytes:
    drawn = [
        (advance, box)
        for advance, box in zip(advances, boxes, strict=True)
        if box is not None
    ]
    left_bearings = [box[0] for _, box in drawn]
    right_bearings = [advance - box[2] for advance, box in drawn]
    extents = [box[2] for _, box in drawn]
    return struct.pack(
        ">IhhhHhhhhhh5hH",
        *(0x00010000, _ASCENT, _DESCENT, 0, max(advances)),
        *(min(left_bearings), min(right_bearings), max(extents), 1, 0, 0),
        *([0] * 5),
        len(advances),
    )


def _maxp(glyphs: Sequence[tuple[int | None, int, list[Contour]]]) -> bytes:
    points = max(sum(map(len, contours)) for _, _, contours in glyphs)
    contours = max(len(contours) for _, _, contours in glyphs)
    return struct.pack(
        ">IHHH11H", 0x00010000, len(glyphs), points, contours, 0, 0, 2, *([0] * 8)
    )


def _os2(
    glyphs: Sequence[tuple[int | None, int, list[Contour]]],
    bounds: tuple[int, int, int, int],
) -> bytes:
    codes = [code for code, _, _ in glyphs if code is not None]
    drawn = [advance for code, advance, _ in glyphs if code is not None]
    return struct.pack(
        ">HhHHHhhhhhhhhhhh10sIIII4sHHHhhhHHIIhhHHH",
        *(4, sum(drawn) // len(drawn), 400, 5, 0),
        *(650, 600, 0, 75, 650, 600, 0, 350, 50, 300, 0),
        bytes(10),
        # Basic Latin, and the Private Use Area (bit 60).
        *(1, 1 << 28, 0, 0),
        b"LBDM",
        *(0x40, min(codes), max(codes)),
        *(_ASCENT, _DESCENT, 0, max(_ASCENT, bounds[3]), max(-_DESCENT, -bounds[1])),
        *(1, 0, 500, 700, 0, ord(" "), 0),
    )


def _name() -> bytes:
    version = "Version 1.000"
    strings = {
        1: FAMILY,
        2: "Regular",
        3: f"{FAMILY} Regular; {version}",
        4: f"{FAMILY} Regular",
        5: version,
        6: FAMILY.replace(" ", "") + "-Regular",
    }
    encoded = {name_id: text.encode("utf-16-be") for name_id, text in strings.items()}
    records, storage = b"", b""
    for name_id, data in encoded.items():
        records += struct.pack(">HHHHHH", 3, 1, 0x409, name_id, len(data), len(storage))
        storage += data
    header = struct.pack(">HHH", 0, len(encoded), 6 + len(records))
    return header + records + storage


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) % 2**32


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """Lay the tables out after the directory, in tag order, 4-byte aligned."""
    count = len(tables)
    search = 2 ** (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH",
        0x00010000,
        count,
        search * 16,
        search.bit_length() - 1,
        (count - search) * 16,
    )
    offsets, offset = {}, len(header) + 16 * count
    for tag in sorted(tables):
        offsets[tag] = offset
        offset += len(tables[tag]) + -len(tables[tag]) % 4
    directory = b"".join(
        struct.pack(
            ">4sIII", tag.encode("latin-1"), _checksum(data), offsets[tag], len(data)
        )
        for tag, data in sorted(tables.items())
    )
    body = b"".join(
        data + b"\0" * (-len(data) % 4) for _, data in sorted(tables.items())
    )
    whole = bytearray(header + directory + body)

    # The head table's checkSumAdjustment makes the whole file sum to a magic.
    adjustment = (0xB1B0AFBA - _checksum(bytes(whole))) % 2**32
    struct.pack_into(">I", whole, offsets["head"] + 8, adjustment)
    return bytes(whole)
