"""A small PDF writer: pages of text lines, nothing else. Deterministic: the same lines give
the same bytes (no creation date, an /ID derived from the content), so a statement's PDF can
be reproduced byte for byte from its JSON document.

Text is set in the standard Type 1 fonts (Helvetica, Courier), so nothing is embedded; a
character outside Latin-1 is shown as `?`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4, points
MARGIN = 50
LEADING = 12


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    font: str = "F1"  # F1 Helvetica, F2 Helvetica-Bold, F3 Courier
    size: int = 9
    gap: int = 0  # extra points above the line


def _escape(text: str) -> bytes:
    data = text.encode("latin-1", errors="replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pages(lines: list[Line]) -> list[list[tuple[Line, float]]]:
    pages: list[list[tuple[Line, float]]] = [[]]
    y = PAGE_HEIGHT - MARGIN
    for line in lines:
        step = line.gap + max(LEADING, line.size + 3)
        if y - step < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
            step = max(LEADING, line.size + 3)
        y -= step
        pages[-1].append((line, y))
    return pages


def _content(page: list[tuple[Line, float]], number: int, total: int, footer: str) -> bytes:
    parts = [b"BT"]
    for line, y in page:
        parts.append(
            b"/%s %d Tf 1 0 0 1 %d %.2f Tm (%s) Tj"
            % (line.font.encode(), line.size, MARGIN, y, _escape(line.text))
        )
    parts.append(
        b"/F1 7 Tf 1 0 0 1 %d %d Tm (%s) Tj"
        % (MARGIN, MARGIN - 20, _escape(f"{footer}   page {number} of {total}"))
    )
    parts.append(b"ET")
    return b"\n".join(parts)


def render(lines: list[Line], *, title: str, footer: str) -> bytes:
    pages = _pages(lines)
    objects: list[bytes] = []  # object n is objects[n - 1]
    fonts = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier"}
    font_refs = []
    for name, base in fonts.items():
        objects.append(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
            % base.encode()
        )
        font_refs.append(b"/%s %d 0 R" % (name.encode(), len(objects)))
    pages_number = len(objects) + 1
    objects.append(b"")  # the page tree, filled in below
    kids = []
    for index, page in enumerate(pages, start=1):
        stream = _content(page, index, len(pages), footer)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << %s >> >> >>"
            % (pages_number, PAGE_WIDTH, PAGE_HEIGHT, len(objects), b" ".join(font_refs))
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[pages_number - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(kids),
        len(kids),
    )
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_number)
    catalog = len(objects)
    objects.append(b"<< /Title (%s) /Producer (ApexChainX) >>" % _escape(title))
    info = len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    identity = hashlib.md5(bytes(out), usedforsecurity=False).hexdigest().encode()
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        catalog,
        info,
        identity,
        identity,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
