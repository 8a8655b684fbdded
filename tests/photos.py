"""Test images made with Pillow: photo-like pixels, EXIF with orientation, camera and GPS, XMP and a comment."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

ORIENTATION = 0x0112
GPS_IFD = 0x8825
MARK = (220, 30, 30)  # a red square in the top-left corner of the image as it should be shown


def scene(width: int, height: int, seed: int = 0) -> Image.Image:
    """Return photo-like pixels as they should be shown: gradients and noise, a red mark at the top left."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40 + seed % 20)
    blue = Image.radial_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, Image.blend(noise, gradient, 0.5), blue))
    ImageDraw.Draw(image).rectangle((0, 0, width // 5, height // 5), fill=MARK)
    return image


def stored_for(shown: Image.Image, orientation: int) -> Image.Image:
    """Return the pixels a camera stores for an image shown upright after applying an EXIF orientation."""
    if orientation == 6:  # shown = stored turned 90 degrees clockwise
        return shown.transpose(Image.Transpose.ROTATE_90)
    if orientation == 8:
        return shown.transpose(Image.Transpose.ROTATE_270)
    if orientation == 3:
        return shown.transpose(Image.Transpose.ROTATE_180)
    return shown


def camera_exif(orientation: int = 1) -> Image.Exif:
    """Return EXIF as a phone writes it: orientation, make and model, and where the photo was taken."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 12 Pro"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 7.25)}
    return exif


XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GPSLatitude="52,31N"/></rdf:RDF></x:xmpmeta>'


def photo(width: int, height: int, orientation: int = 1, file_format: str = "JPEG", seed: int = 0) -> bytes:
    """Return an image file shown width x height, stored turned as `orientation` says, with every metadata block."""
    image = stored_for(scene(width, height, seed), orientation)
    buffer = io.BytesIO()
    extra: dict[str, object] = {"exif": camera_exif(orientation).tobytes()}
    if file_format == "JPEG":
        extra |= {"quality": 90, "comment": b"Taken at 12 Secret Street", "xmp": XMP}
    image.save(buffer, file_format, **extra)
    return buffer.getvalue()


def screenshot(width: int, height: int) -> bytes:
    """Return a PNG with flat colours and a text chunk, like a screenshot."""
    from PIL import PngImagePlugin

    image = Image.new("RGB", (width, height), (240, 240, 240))
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 40):
        draw.rectangle((20, row + 10, width - 20, row + 30), fill=(40, 90, 160))
    ImageDraw.Draw(image).rectangle((0, 0, width // 5, height // 5), fill=MARK)
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Screenshot of my home at 12 Secret Street")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=camera_exif().tobytes())
    return buffer.getvalue()


def animation(width: int, height: int, frames: int = 3) -> bytes:
    """Return an animated GIF whose frames differ in colour."""
    images = [Image.new("RGB", (width, height), (60 * index, 100, 200 - 50 * index)) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=120, loop=0, comment=b"secret")
    return buffer.getvalue()


PHOTO_ARTICLE = "content/articles/a-walk-and-a-talk/index.md"


def photo_article() -> dict[str, str | bytes]:
    """Return an article bundle as an editor makes one: a portrait phone photo (turned by EXIF, with GPS), a PNG
    screenshot and a small image, for the browser tests and Lighthouse."""
    return {
        PHOTO_ARTICLE: """\
---
title: A walk and a talk
description: Why talking side by side on a walk can be easier than talking face to face.
date: 2026-10-20
tags: [communication]
---
Some conversations are easier side by side. Walking together takes the pressure off eye contact.

![Two people walking on a path through tall grass](walk.jpg)

## Setting it up

Pick a route you both know, so nobody has to navigate. Leave phones in pockets.

![The route planner with a short loop drawn on the map](route.png)

## Afterwards

A small note of thanks afterwards goes a long way.

![A hand-drawn heart](heart.png)
""",
        "content/articles/a-walk-and-a-talk/walk.jpg": photo(1512, 2016, orientation=6),
        "content/articles/a-walk-and-a-talk/route.png": screenshot(1000, 600),
        "content/articles/a-walk-and-a-talk/heart.png": screenshot(240, 160),
    }


def _fixed(value: float) -> bytes:
    """Return an ICC s15Fixed16Number."""
    import struct

    return struct.pack(">i", round(value * 65536))


def swapped_profile() -> bytes:
    """Return an RGB display profile whose red and green primaries are sRGB's green and red (an ICC v2 matrix).

    Pure red tagged with it is sRGB's pure green: a build that honours profiles turns it green, one that ignores
    them leaves it red.
    """
    import struct

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + _fixed(x) + _fixed(y) + _fixed(z)

    text = b"Swapped red and green\0"
    description = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4) + bytes(4) + bytes(3) + bytes(67)
    gamma = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0233) + bytes(2)
    tags = [
        (b"desc", description),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),  # sRGB's green primary (D50)
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red primary
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", gamma),
        (b"gTRC", gamma),
        (b"bTRC", gamma),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        padded = body + bytes(-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += padded
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + _fixed(0.9642)
        + _fixed(1.0)
        + _fixed(0.8249)
        + bytes(4 + 16 + 28)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def tagged_red(width: int, height: int) -> bytes:
    """Return a PNG of pure red pixels tagged with swapped_profile()."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (255, 0, 0)).save(buffer, "PNG", icc_profile=swapped_profile())
    return buffer.getvalue()
