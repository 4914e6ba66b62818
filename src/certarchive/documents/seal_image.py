"""The seal as a raster picture: what the OFD's electronic seal (``SESeal``) carries.

GB/T 38540 gives an electronic seal a picture that readers draw as the stamp; the PDF
draws the same seal as vector paths instead (:mod:`.seal_vector`), both from one geometry
(:mod:`.seal_layout`).  The picture is uniform red whose shape lives in the alpha channel.

Drawing and compressing it costs tens of milliseconds, so the PNG is built once per
process for each seal (``functools.cache``).
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw, ImageFont

from certarchive.documents.seal_layout import (
    INK_ALPHA,
    RING_OUTER,
    RING_WIDTH,
    SEAL_RED,
    SIZE,
    GlyphPlacement,
    seal_lettering,
    star_points,
)


def _glyph_tile(letter: GlyphPlacement, font: ImageFont.FreeTypeFont) -> Image.Image:
    """One letter as an alpha tile, its ink centred, narrowed and turned as placed."""
    left, top, right, bottom = font.getbbox(letter.char)
    size = letter.size
    tile = Image.new("L", (size, size), 0)
    ImageDraw.Draw(tile).text(
        ((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top),
        letter.char,
        fill=255,
        font=font,
        stroke_width=letter.stroke,
        stroke_fill=255,
    )
    narrowed = tile.resize(
        (max(1, round(size * letter.width_scale)), size), Image.Resampling.LANCZOS
    )
    return narrowed.rotate(-letter.rotation, resample=Image.Resampling.BICUBIC, expand=True)


def draw_seal(
    seal_name: str, agency_name: str, seal_number: str, font_path: str | None
) -> Image.Image:
    """Draw the seal as an RGBA image (uniform red; the shape lives in the alpha channel).

    Without a TrueType font (``font_path`` None) the letters cannot be drawn; the ring,
    star and nothing else remain, and the renderer's font module has already warned.
    """
    alpha = Image.new("L", (SIZE, SIZE), 0)
    draw = ImageDraw.Draw(alpha)
    # PIL draws the outline inwards from the box: the ring's outer edge is the box's.
    edge = SIZE / 2 - RING_OUTER
    draw.ellipse((edge, edge, SIZE - edge - 1, SIZE - edge - 1), outline=255, width=RING_WIDTH)
    draw.polygon(star_points(), fill=255)
    if font_path:
        fonts: dict[int, ImageFont.FreeTypeFont] = {}
        for letter in seal_lettering(seal_name, agency_name, seal_number):
            if letter.size not in fonts:
                fonts[letter.size] = ImageFont.truetype(font_path, letter.size, index=0)
            tile = _glyph_tile(letter, fonts[letter.size])
            corner = (round(letter.x - tile.width / 2), round(letter.y - tile.height / 2))
            alpha.paste(255, corner, tile)
    alpha = alpha.point(lambda v: v * INK_ALPHA // 255)
    seal = Image.new("RGBA", (SIZE, SIZE), (*SEAL_RED, 0))
    seal.putalpha(alpha)
    return seal


@functools.cache
def seal_png(seal_name: str, agency_name: str, seal_number: str, font_path: str | None) -> bytes:
    """The seal drawing as PNG: the picture an electronic seal (SESeal) carries."""
    buffer = io.BytesIO()
    draw_seal(seal_name, agency_name, seal_number, font_path).save(buffer, "PNG")
    return buffer.getvalue()
