"""The drawing of the agency's electronic seal, applied at 登记机构（章） (H-1.4, H-3.1).

The drawing follows the physical official seal: a red ring, a five-pointed star in the
middle, the agency name along the upper arc, the seal's purpose (不动产登记专用章) in a
straight line under the star and the seal number in small digits along the bottom.  It
is a raster image rather than text on purpose: the seal's words must not mix into the
certificate's extractable text (pdftotext would interleave them with the fields), just
as the ink of a stamp is not part of the printed form.

Drawing and compressing the image costs tens of milliseconds, so it is built once per
process for each seal (``functools.cache``) and only placed on each page.
"""

from __future__ import annotations

import functools
import io
import math

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader

from certarchive.documents.pdfimage import PlacedImage

SEAL_RED = (206, 17, 38)
#: Pixels across the image.  600 px over the 42 mm seal is about 360 dpi: print quality
#: while keeping the compressed image near 30 KB.
SIZE_PX = 600
#: Ink coverage; slightly below opaque so the printed words under the seal show through.
INK_ALPHA = 235


def split_seal_name(seal_name: str, agency_name: str) -> tuple[str, str]:
    """Split the seal name into the arc text and the straight purpose line.

    "潢川县自然资源局不动产登记专用章" with agency "潢川县自然资源局" gives
    ("潢川县自然资源局", "不动产登记专用章"), which is how the physical seal is cut.  A seal
    name that does not start with the agency name goes round the arc whole.
    """
    if agency_name and seal_name.startswith(agency_name) and seal_name != agency_name:
        return agency_name, seal_name[len(agency_name) :]
    return seal_name, ""


def _star_points(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """Vertices of a five-pointed star with one point straight up."""
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        theta = math.radians(i * 36)
        points.append((cx + r * math.sin(theta), cy - r * math.cos(theta)))
    return points


def _glyph_tile(char: str, font: ImageFont.FreeTypeFont, width_scale: float) -> Image.Image:
    """One character as an alpha tile, narrowed like the condensed letters of a seal."""
    left, top, right, bottom = font.getbbox(char)
    size = font.size
    tile = Image.new("L", (size, size), 0)
    ImageDraw.Draw(tile).text(
        ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top),
        char,
        fill=255,
        font=font,
        stroke_width=max(1, size // 50),  # seal letters are cut bold
        stroke_fill=255,
    )
    return tile.resize((max(1, round(size * width_scale)), size), Image.Resampling.LANCZOS)


def _place_on_arc(
    alpha: Image.Image,
    text: str,
    font: ImageFont.FreeTypeFont,
    radius: float,
    span_deg: float,
    *,
    upper: bool,
    width_scale: float = 1.0,
) -> None:
    """Paste ``text`` along a circular arc, left to right.

    Angles are measured clockwise from the top.  On the upper arc the letters' tops point
    outwards; on the lower arc (the seal number) they point to the centre, so both read
    left to right as on a real seal.
    """
    centre = SIZE_PX / 2
    count = len(text)
    step = span_deg / max(count - 1, 1)
    for i, char in enumerate(text):
        offset = -span_deg / 2 + i * step if count > 1 else 0.0
        theta = offset if upper else 180 - offset
        rotation = theta if upper else theta - 180
        tile = _glyph_tile(char, font, width_scale).rotate(
            -rotation, resample=Image.Resampling.BICUBIC, expand=True
        )
        x = centre + radius * math.sin(math.radians(theta)) - tile.width / 2
        y = centre - radius * math.cos(math.radians(theta)) - tile.height / 2
        alpha.paste(255, (round(x), round(y)), tile)


def _draw_straight(alpha: Image.Image, text: str, font: ImageFont.FreeTypeFont, y: float) -> None:
    """The purpose line, centred horizontally under the star."""
    tiles = [_glyph_tile(char, font, 0.8) for char in text]
    x = (SIZE_PX - sum(tile.width for tile in tiles)) / 2
    for tile in tiles:
        alpha.paste(255, (round(x), round(y)), tile)
        x += tile.width


def draw_seal(
    seal_name: str, agency_name: str, seal_number: str, font_path: str | None
) -> Image.Image:
    """Draw the seal as an RGBA image (uniform red; the shape lives in the alpha channel).

    Without a TrueType font (``font_path`` None) the letters cannot be drawn; the ring,
    star and nothing else remain, and the renderer's font module has already warned.
    """
    alpha = Image.new("L", (SIZE_PX, SIZE_PX), 0)
    draw = ImageDraw.Draw(alpha)
    ring = SIZE_PX * 0.038
    # PIL draws the outline inwards from the box: the ring's outer edge is the image's.
    draw.ellipse((1, 1, SIZE_PX - 2, SIZE_PX - 2), outline=255, width=round(ring))
    draw.polygon(_star_points(SIZE_PX / 2, SIZE_PX / 2, SIZE_PX * 0.16), fill=255)
    if font_path:
        arc_text, purpose = split_seal_name(seal_name, agency_name)
        name_font = ImageFont.truetype(font_path, round(SIZE_PX * 0.135), index=0)
        span = min(230.0, 31.0 * max(len(arc_text) - 1, 1))
        _place_on_arc(
            alpha, arc_text, name_font, SIZE_PX * 0.365, span, upper=True, width_scale=0.8
        )
        if purpose:
            purpose_font = ImageFont.truetype(font_path, round(SIZE_PX * 0.08), index=0)
            _draw_straight(alpha, purpose, purpose_font, SIZE_PX * 0.67)
        number_font = ImageFont.truetype(font_path, round(SIZE_PX * 0.05), index=0)
        number_span = min(110.0, 6.0 * max(len(seal_number) - 1, 1))
        _place_on_arc(alpha, seal_number, number_font, SIZE_PX * 0.405, number_span, upper=False)
    alpha = alpha.point(lambda v: v * INK_ALPHA // 255)
    seal = Image.new("RGBA", (SIZE_PX, SIZE_PX), (*SEAL_RED, 0))
    seal.putalpha(alpha)
    return seal


@functools.cache
def seal_image(
    seal_name: str, agency_name: str, seal_number: str, font_path: str | None
) -> PlacedImage:
    """The seal as PDF image objects, built and compressed once per process for each seal."""
    return PlacedImage(ImageReader(draw_seal(seal_name, agency_name, seal_number, font_path)))


@functools.cache
def seal_png(seal_name: str, agency_name: str, seal_number: str, font_path: str | None) -> bytes:
    """The seal drawing as PNG: the picture an electronic seal (SESeal) carries."""
    buffer = io.BytesIO()
    draw_seal(seal_name, agency_name, seal_number, font_path).save(buffer, "PNG")
    return buffer.getvalue()
