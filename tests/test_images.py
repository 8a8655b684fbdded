"""Images of pages: page bundles, <picture> variants read back with Pillow, errors, SVG safety, cache, check."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from conftest import NOW, Run, run, snapshot, soup
from photos import MARK, animation, photo, screenshot, tagged_red
from PIL import Image

from kiln import imaging, variants
from kiln.pipeline import Options, render

ARTICLE = """\
---
title: On a bench
date: 2026-01-02
description: Two people on a bench.
image: {cover}
image_alt: Two people talking on a park bench
---
Intro.

![A portrait photo](portrait.jpg)

![A screenshot of the form](shot.png)

![A small drawing](/static/images/small.png)

![A moving picture](anim.gif)
"""
SECRETS = (b"PhoneMaker", b"Phone 12", b"Secret Street", b"52,31N", b"secret", b"Exif", b"GPS", b"xmpmeta")


def bundle(cover: str = "bench.jpg") -> dict[str, str | bytes]:
    """Return an article bundle with a landscape photo, a sideways-stored portrait, a PNG, a GIF and a static PNG."""
    return {
        "content/articles/bench/index.md": ARTICLE.format(cover=cover),
        "content/articles/bench/bench.jpg": photo(1700, 1100),
        "content/articles/bench/portrait.jpg": photo(600, 900, orientation=6, seed=3),
        "content/articles/bench/shot.png": screenshot(700, 400),
        "content/articles/bench/anim.gif": animation(120, 80),
        "static/images/small.png": screenshot(300, 200),
    }


def pictures(page: BeautifulSoup) -> list[Tag]:
    """Return the <picture> elements of a page."""
    return list(page.find_all("picture"))


def opened(site: Path, url: str) -> Image.Image:
    """Return a published image, read by Pillow from its site-relative URL."""
    return Image.open(io.BytesIO((site / url.lstrip("/")).read_bytes()))


def test_a_bundle_publishes_pictures_with_every_width_and_no_metadata(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site(bundle())
    assert build(source).code == 0
    out = source / "site"
    page = soup(out / "articles" / "bench" / "index.html")
    found = pictures(page)
    assert len(found) == 5  # the cover, then the four in the text
    cover, portrait, shot, small, moving = found
    widths = {}
    for picture in found:
        img = picture.find("img")
        assert img is not None and img["alt"]
        for source_tag in picture.find_all("source"):
            assert source_tag["sizes"] == "(min-width: 38em) 35em, calc(100vw - 2rem)"
            for candidate in str(source_tag["srcset"]).split(", "):
                url, width = candidate.split()
                image = opened(out, url)
                assert image.format == {"image/avif": "AVIF", "image/webp": "WEBP"}[str(source_tag["type"])]
                assert f"{image.width}w" == width
                assert image.width * int(img["height"]) == pytest.approx(image.height * int(img["width"]), rel=0.01)
        widths[str(img["alt"])] = [c.split()[1] for c in str(picture.find("source")["srcset"]).split(", ")]
    assert widths == {
        "Two people talking on a park bench": ["480w", "800w", "1200w", "1600w"],
        "A portrait photo": ["480w", "600w"],
        "A screenshot of the form": ["480w", "700w"],
        "A small drawing": ["300w"],
        "A moving picture": ["120w"],
    }
    # the fallback keeps the original's format; width and height are those shown, the portrait upright
    assert [opened(out, str(p.find("img")["src"])).format for p in found] == ["JPEG", "JPEG", "PNG", "PNG", "GIF"]
    assert (portrait.img["width"], portrait.img["height"]) == ("600", "900")
    upright = opened(out, str(portrait.img["src"])).convert("RGB")
    assert upright.size == (600, 900)
    assert all(abs(a - b) < 40 for a, b in zip(upright.getpixel((10, 10)), MARK, strict=True))  # mark top left
    assert [p.find("source")["type"] for p in (moving,)] == ["image/webp"] and len(moving.find_all("source")) == 1
    assert opened(out, str(moving.img["src"])).n_frames == 3
    assert opened(out, str(moving.find("source")["srcset"]).split()[0]).n_frames == 3
    # the first image is the cover: not lazy, fetched first; the rest lazy
    assert cover.img["fetchpriority"] == "high" and not cover.img.has_attr("loading")
    assert all(p.img["loading"] == "lazy" and p.img["decoding"] == "async" for p in found[1:])
    # no published image carries EXIF, GPS, XMP, a profile, a comment or a text chunk
    images = [path for path in out.rglob("*") if path.suffix in (".jpg", ".png", ".webp", ".avif", ".gif")]
    assert len(images) >= 20
    for path in images:
        data = path.read_bytes()
        image = Image.open(io.BytesIO(data))
        assert not image.getexif(), path
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment"} & image.info.keys(), path
        assert not [secret for secret in SECRETS if secret in data], path
    # the static original keeps its name, stripped
    assert b"Secret" not in (out / "static" / "images" / "small.png").read_bytes()


def test_the_cover_makes_link_previews(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(bundle())
    assert build(source).code == 0
    page = soup(source / "site" / "articles" / "bench" / "index.html")
    metas = page.find_all("meta", content=True)
    meta = {str(tag.get("property") or tag.get("name")): str(tag["content"]) for tag in metas}
    assert meta["og:image"].startswith("https://example.org/articles/bench/bench-og.")
    assert meta["twitter:image"] == meta["og:image"]
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:image:alt"] == meta["twitter:image:alt"] == "Two people talking on a park bench"
    assert meta["twitter:card"] == "summary_large_image"
    crop = opened(source / "site", meta["og:image"].removeprefix("https://example.org"))
    assert (crop.format, crop.size) == ("JPEG", (1200, 630))
    assert '"image":"' + meta["og:image"] in page.find("script", type="application/ld+json").string.replace(" ", "")


def test_a_static_cover_and_a_bundle_program(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(
        {
            "content/articles/one.md": "---\ntitle: One\ndate: 2026-01-02\nimage: /static/images/top.png\n"
            "image_alt: ''\n---\nText.\n",
            "static/images/top.png": screenshot(500, 300),
            "content/programs/group/index.md": "---\ntitle: Group\ndescription: A group.\n---\n![Room](room.png)\n",
            "content/programs/group/room.png": screenshot(400, 300),
        }
    )
    assert build(source).code == 0
    article = soup(source / "site" / "articles" / "one" / "index.html")
    assert article.find("img", class_="cover")["alt"] == ""  # decorative, as the front matter says
    program = soup(source / "site" / "programs" / "group" / "index.html")
    assert program.find("picture").img["alt"] == "Room"


def error_lines(result: Run) -> list[str]:
    """Return the problem lines a failed build printed."""
    return [line for line in result.err.splitlines() if line.startswith("content/")]


def bomb() -> bytes:
    """Return a small PNG that claims 100 megapixels."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, "PNG")
    return buffer.getvalue()


def test_bad_images_are_errors_at_their_line_and_the_site_stays(
    site: Callable[..., Path], build: Callable[..., Run], tmp_path: Path
) -> None:
    source = site({"content/articles/fine.md": "---\ntitle: Fine\ndate: 2026-01-01\n---\nFine.\n"})
    assert build(source).code == 0
    before = snapshot(source / "site")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(photo(100, 80))
    body = "".join(
        f"![{name}]({name})\n\n"
        for name in ("bomb.png", "cut.jpg", "gone.jpg", "text.jpg", "evil.svg", "link.jpg", "doc.pdf")
    )
    files = {
        "content/articles/bad/index.md": f"---\ntitle: Bad\ndate: 2026-01-02\nimage: ../fine.jpg\n---\n{body}",
        "content/articles/bad/bomb.png": bomb(),
        "content/articles/bad/cut.jpg": photo(800, 600)[:4000],
        "content/articles/bad/text.jpg": b"this is not an image",
        "content/articles/bad/evil.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    }
    for name, data in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data.encode() if isinstance(data, str) else data)
    os.symlink(outside, source / "content/articles/bad/link.jpg")
    started = time.monotonic()
    result = build(source)
    assert time.monotonic() - started < 30
    assert result.code == 1
    path = "content/articles/bad/index.md"
    assert error_lines(result) == [
        "content/articles/bad/link.jpg: warning: symbolic link to a file outside the source folder is not followed "
        f"(it points to {outside})",
        f"{path}:4: image path leaves its folder (expected a file beside the markdown file (or in a folder below "
        "it) or under /static/, with no .., got '../fine.jpg')",
        f"{path}:6: image is too large (10000x10000 pixels) (expected at most 50 megapixels; scale it down before "
        "adding it; in content/articles/bad/bomb.png)",
        f"{path}:8: image cannot be read (expected a whole JPEG, PNG, WebP, AVIF or GIF file, got a truncated file; "
        "in content/articles/bad/cut.jpg)",
        f"{path}:10: image not found (expected the file beside the markdown file or under static/, "
        "got content/articles/bad/gone.jpg)",
        f"{path}:12: image is not in a format the build takes (expected JPEG, PNG, WebP, AVIF or GIF (or SVG), "
        "got a file starting b'this is '; in content/articles/bad/text.jpg)",
        f"{path}:14: SVG image is not safe to publish (expected an SVG without script, event attributes, "
        "javascript: links, entities or outside references, got '<script')",
        f"{path}:16: image is a link to a file outside the source folder (it points to {outside}, "
        "got content/articles/bad/link.jpg)",
        f"{path}:18: image is not in a format the build takes (expected .jpg, .png, .webp, .avif, .gif or .svg, "
        "got 'doc.pdf')",
    ]
    assert snapshot(source / "site") == before


def test_a_clean_svg_is_published_as_it_is(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'
    source = site(
        {
            "content/articles/a/index.md": "---\ntitle: A\ndate: 2026-01-02\n---\n![A bar chart](chart.svg)\n",
            "content/articles/a/chart.svg": svg,
        }
    )
    assert build(source).code == 0
    img = soup(source / "site" / "articles" / "a" / "index.html").find("picture").img
    assert (img["width"], img["height"]) == ("40", "20")
    assert (source / "site" / str(img["src"]).lstrip("/")).read_bytes() == svg


@pytest.mark.parametrize(
    "svg",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.test/x.png"/></svg>',
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>',
        b"<svg><style>@import url(https://x.test/a.css);</style></svg>",
        b"<svg><foreignObject><div>x</div></foreignObject></svg>",
    ],
)
def test_unsafe_svg_is_refused(svg: bytes) -> None:
    assert variants.svg_problem(svg) is not None


def test_two_clean_builds_are_byte_identical(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(bundle())
    assert build(source, "--no-cache", "--output", str(source / "one")).code == 0
    assert build(source, "--no-cache", "--output", str(source / "two")).code == 0
    assert snapshot(source / "one") == snapshot(source / "two")


def test_warm_builds_and_text_edits_never_decode_an_image(
    site: Callable[..., Path], build: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(bundle())
    assert build(source).code == 0
    first = snapshot(source / "site")

    def refuse(data: bytes, og: bool) -> imaging.Made:
        raise AssertionError("an image was made again")

    monkeypatch.setattr(imaging, "make", refuse)
    assert build(source).code == 0
    index = source / "content/articles/bench/index.md"
    index.write_text(index.read_text().replace("Intro.", "A new intro."))
    assert build(source).code == 0
    after = snapshot(source / "site")
    changed = {name for name in after if after[name] != first.get(name) and not name.startswith("pagefind/")}
    assert changed == {"articles/bench/index.html", "feed.xml"}  # and the search index, which holds the text
    # new bytes under the same name are made again
    (source / "content/articles/bench/shot.png").write_bytes(screenshot(650, 400))
    with pytest.raises(AssertionError, match="made again"):
        render(Options(source, now=NOW))


def test_a_build_with_every_image_cached_does_not_load_pillow(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site(bundle())
    assert build(source).code == 0
    # a build process of its own: this one has loaded Pillow for the tests (loading it costs each build ~20 ms)
    script = (
        "import sys; from kiln.cli import main; "
        f"code = main(['--source', {str(source)!r}, '--quiet']); "
        "print(code, 'PIL.Image' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "False"], done.stdout + done.stderr


def test_a_changed_image_changes_its_names(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(bundle())
    assert build(source).code == 0
    before = soup(source / "site/articles/bench/index.html").find_all("img")[2]["src"]
    (source / "content/articles/bench/shot.png").write_bytes(screenshot(650, 400))
    assert build(source).code == 0
    after = soup(source / "site/articles/bench/index.html").find_all("img")[2]["src"]
    assert before != after and after.startswith("/articles/bench/shot-650w.")


def test_headers_cache_variants_for_a_year(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(bundle())
    assert build(source).code == 0
    headers = (source / "site" / "_headers").read_text()
    page = soup(source / "site/articles/bench/index.html")
    for img in page.find_all("img"):
        assert f"\n{img['src']}\n  Cache-Control: public, max-age=31536000, immutable" in headers


def test_check_flags_missing_alt_and_large_originals(
    capsys: pytest.CaptureFixture[str], site: Callable[..., Path]
) -> None:
    large = photo(200, 150) + bytes(11 * 2**20)  # data after the end of a JPEG is ignored by decoders
    source = site(
        {
            "content/articles/a/index.md": "---\ntitle: A\ndate: 2026-01-02\ndescription: About a.\n---\n"
            "![](plain.png)\n\n![](ornament.png){.decorative}\n\n![A big photo](big.jpg)\n",
            "content/articles/a/plain.png": screenshot(100, 60),
            "content/articles/a/ornament.png": screenshot(90, 50),
            "content/articles/a/big.jpg": large,
        }
    )
    result = run(capsys, "check", "--source", str(source), "--now", NOW.isoformat())
    found = [line for line in result.err.splitlines() if line.startswith("content/")]
    assert found == [
        "content/articles/a/index.md:6: warning: image has no alt text (expected a description for people who "
        "cannot see it, such as ![Two people talking](plain.png), got an empty one)",
        "content/articles/a/index.md:10: warning: image file is over 10 MB (expected a smaller original in the "
        "repository, got 11.0 MB in content/articles/a/big.jpg; scale it down before adding it "
        "(what is published is small either way))",
    ]


def test_a_live_text_edit_keeps_the_pictures_without_a_full_build(site: Callable[..., Path]) -> None:
    from kiln.cache import open_caches
    from kiln.pipeline import rerender
    from kiln.render import make_environment

    source = site(bundle())
    options = Options(source, now=NOW)
    caches = open_caches(source, True)
    environment = make_environment(source, auto_reload=False)
    first = render(options, environment, caches)
    index = source / "content/articles/bench/index.md"
    index.write_text(index.read_text().replace("Intro.", "A new intro."))
    again = rerender(first, options, environment, caches, Path("content/articles/bench/index.md"))
    assert again is not None
    page = BeautifulSoup(again.files["articles/bench/index.html"], "html.parser")
    assert "A new intro." in page.text and len(pictures(page)) == 5
    assert again.files.keys() == first.files.keys()
    # a new image in the text needs the full build, which makes it
    index.write_text(index.read_text() + "\n![Another](shot2.png)\n")
    (source / "content/articles/bench/shot2.png").write_bytes(screenshot(300, 200))
    assert rerender(again, options, environment, caches, Path("content/articles/bench/index.md")) is None


def test_pixels_in_another_colour_space_are_converted_to_srgb() -> None:
    made = imaging.make(tagged_red(120, 80), og=True)
    assert len(made.files) == 4  # AVIF, WebP, the PNG fallback and the link-preview crop
    for encoded in made.files:
        image = Image.open(io.BytesIO(encoded.data))
        assert "icc_profile" not in image.info
        red, green, blue = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
        assert red < 10 and green > 245 and blue < 10, encoded.mime  # the profile's red is sRGB's green


def test_a_touched_image_is_hashed_again_and_a_damaged_entry_made_again(
    site: Callable[..., Path], build: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = site(bundle())
    assert build(source).code == 0
    published = snapshot(source / "site")
    entries = sorted((source / ".kiln-cache" / "images").glob("*.bin"))
    assert len(entries) == 5
    made: list[int] = []
    make = imaging.make

    def counted(data: bytes, og: bool) -> imaging.Made:
        made.append(len(data))
        return make(data, og)

    monkeypatch.setattr(imaging, "make", counted)
    os.utime(source / "content/articles/bench/shot.png", ns=(1, 1))  # same bytes, another signature
    assert build(source).code == 0
    assert made == []
    damaged = entries[0].read_bytes()
    entries[0].write_bytes(damaged[:-10] + bytes(10))
    assert build(source).code == 0
    assert len(made) == 1
    assert snapshot(source / "site") == published


def test_image_errors_come_with_the_other_errors_of_the_build(
    site: Callable[..., Path], build: Callable[..., Run]
) -> None:
    source = site(
        {
            "content/articles/a/index.md": "---\ntitle: A\ndate: 2026-01-02\n---\n![Gone](gone.jpg)\n",
            "content/articles/b.md": "---\ndate: 2026-01-02\n---\nNo title.\n",
        }
    )
    result = build(source)
    assert result.code == 1
    assert error_lines(result) == [
        "content/articles/a/index.md:5: image not found (expected the file beside the markdown file or under "
        "static/, got content/articles/a/gone.jpg)",
        "content/articles/b.md:1: `title` is required (expected a line such as `title: A clear title`, "
        "or a text that starts with `# A clear title`, got none)",
    ]


def test_an_authors_photo_goes_through_the_image_pipeline(site: Callable[..., Path], build: Callable[..., Run]) -> None:
    source = site(
        {
            "content/authors/dana-reyes.md": "---\nname: Dana Reyes\ncredentials: LCSW\nphoto: dana.jpg\n---\nA bio.\n",
            "content/authors/dana.jpg": photo(900, 1200, orientation=6),  # stored turned, with GPS and a camera
            "content/articles/a.md": "---\ntitle: A\ndate: 2026-01-02\nauthor: dana-reyes\n---\nText.\n",
        }
    )
    result = build(source)
    assert result.code == 0, result.err
    page = soup(source / "site/authors/dana-reyes/index.html")
    [picture] = pictures(page)
    img = picture.find("img")
    assert img["alt"] == "Photo of Dana Reyes" and "author-photo" in img["class"]
    assert img.get("loading") is None and img["fetchpriority"] == "high"
    assert all(source_["sizes"] == "6rem" for source_ in picture.find_all("source"))
    assert not (source / "site/authors/dana.jpg").exists()  # never the original, with its GPS
    shown = opened(source / "site", img["src"])
    assert shown.getexif() == {} and shown.height > shown.width  # upright, nothing of the camera left
    person = next(item for item in structured(page) if item.get("@type") == "ProfilePage")["mainEntity"]
    assert person["image"] == "https://example.org" + img["src"]


def structured(page: BeautifulSoup) -> list[dict[str, object]]:
    """Return the page's JSON-LD objects."""
    import json

    return [json.loads(script.string or "{}") for script in page.find_all("script", type="application/ld+json")]
