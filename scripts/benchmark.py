#!/usr/bin/env python3
"""Benchmark builds on a synthetic corpus: cold, warm and one-change builds, Markdown floor, search index, memory.

Usage: python scripts/benchmark.py [--articles 1000] [--repeat 5] [--saves 15] [--workdir /dev/shm] [--json out.json]
       [--imports 1000]  (also: `build.py import wordpress` of that many posts, then a cold build of the result)
       python scripts/benchmark.py --images 20 [--articles 1000] ...

With --images N, the same corpus is built twice more, with and without N photo-like 4032x3024 JPEGs carrying
EXIF (five to an article bundle): the cold image time (cold build with photos minus cold build without) is set
against a floor, Pillow alone making the same variants with the same settings on all cores; warm builds with
and without the photos, and the peak memory of the build with them, are reported beside it; the live edit is
then timed on an article with five photos.

Every build is a separate `python build.py` process, timed from start to exit (wall clock), so start-up and
imports count, as they do for an editor. Runs of different kinds are interleaved so that drift of the machine
spreads over all of them. The search index is also timed alone (Pagefind on the corpus' pages, no cache, in this
process); a build overlaps it with rendering. The live edit is measured last, by serve_latency.py's method:
`build.py serve` on the same corpus, one article saved again and again, each timed from the write to the
browser's reload message.
Not a test: the suite only checks that it runs on a tiny corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the script runs from a checkout, installed or not
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))  # photos.py, the test images
from serve_latency import serve_and_measure  # noqa: E402 - found through the line above

WORDS = (
    "trust care listen honest steady repair feeling partner friend respect boundary kindness promise time "
    "conflict calm notice support grow together patience understand choice habit moment gentle clear open "
    "reliable empathy voice share safe hope change practice learn week group skill anxiety relief"
).split()
TAGS = ("relationships", "trust", "communication", "anxiety", "mindfulness", "family", "work", "grief")
CONFIG = """\
title: Benchmark site
organisation: Benchmark Org
description: A synthetic site for timing builds.
base_url: https://example.org/
timezone: UTC
signup_url: https://forms.example.com/signup
"""


def sentence(rng: random.Random, words: int) -> str:
    """Return one sentence of random words."""
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    """Return a paragraph of about 60 words with a link and some emphasis."""
    parts = [sentence(rng, rng.randint(9, 16)) for _ in range(5)]
    parts[1] = f"See [{rng.choice(WORDS)}](/articles/post-{rng.randint(1, 50)}/) and **{rng.choice(WORDS)}**."
    return " ".join(parts)


def article(number: int, rng: random.Random) -> str:
    """Return one synthetic article of about 900 words: headings, lists, links, a table and a quote."""
    tags = rng.sample(TAGS, 3)
    front = (
        f"---\ntitle: Article number {number} about {rng.choice(WORDS)}\n"
        f"date: 2024-{number % 12 + 1:02d}-{number % 28 + 1:02d} {number % 24:02d}:{number % 60:02d}\n"
        f"description: {sentence(rng, 12)}\ntags: [{', '.join(tags)}]\n---\n\n"
    )
    body = [paragraph(rng), paragraph(rng), paragraph(rng)]
    for section in range(4):
        body.append(f"## Section {section + 1}: {rng.choice(WORDS)} and {rng.choice(WORDS)}")
        body += [paragraph(rng), paragraph(rng), paragraph(rng)]
        if section == 1:
            body.append("\n".join(f"- {sentence(rng, 6)}" for _ in range(5)))
        if section == 2:
            rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 99)} | {rng.choice(WORDS)} |" for _ in range(4))
            body.append(f"| Skill | Weeks | Note |\n|---|---|---|\n{rows}")
        if section == 3:
            body.append(f"> {sentence(rng, 20)}")
    return front + "\n\n".join(body) + "\n"


def make_corpus(root: Path, count: int, seed: int, search: bool = True) -> list[Path]:
    """Lay out a source folder with `count` articles (with search on unless asked); return the article paths."""
    rng = random.Random(seed)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "static", root / "static")
    (root / "site.yaml").write_text(CONFIG + ("" if search else "search: false\n"))
    folder = root / "content" / "articles"
    folder.mkdir(parents=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"post-{number}.md"
        path.write_text(article(number, rng))
        paths.append(path)
    return paths


PHOTO_SIZE = (4032, 3024)
PHOTOS_PER_ARTICLE = 5


def add_photo_articles(root: Path, count: int, seed: int, photos: bool) -> Path:
    """Add article bundles with `count` photos, five to each (only their text unless `photos`); return the first."""
    from photos import photo

    first = None
    for start in range(0, count, PHOTOS_PER_ARTICLE):
        number = start // PHOTOS_PER_ARTICLE + 1
        folder = root / "content" / "articles" / f"photos-{number}"
        folder.mkdir(parents=True)
        body = []
        for index in range(start, min(count, start + PHOTOS_PER_ARTICLE)):
            name = f"photo-{index + 1}.jpg"
            if photos:  # every fourth one stored sideways, as phones do, with orientation 6
                data = photo(*PHOTO_SIZE, orientation=6 if index % 4 == 3 else 1, seed=seed + index)
                (folder / name).write_bytes(data)
                body.append(f"![Photo {index + 1} of the walk]({name})")
            body.append(f"Paragraph {index + 1} about the walk, what we saw and what we talked about.")
        (folder / "index.md").write_text(
            f"---\ntitle: A walk in photos, part {number}\ndate: 2024-06-{number % 28 + 1:02d}\n"
            f"description: Photos of a walk.\n---\n\n" + "\n\n".join(body) + "\n"
        )
        first = first or folder / "index.md"
    assert first is not None
    return first


def _pillow_alone(path: Path) -> int:
    """Make one photo's variants with Pillow and the build's settings, nothing else; return the bytes made."""
    import io

    from PIL import Image, ImageOps

    from kiln import imaging

    made = 0
    with Image.open(path) as image:
        image.draft("RGB", (image.width // 2, image.height // 2))
        upright = (ImageOps.exif_transpose(image) or image).convert("RGB")
        upright.info = {}
        sizes = imaging.widths(upright.width)
        for width in sizes:
            resized = upright.resize(
                (width, round(upright.height * width / upright.width)), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
            formats = [("AVIF", imaging.AVIF), ("WEBP", imaging.WEBP)]
            if width == max(size for size in sizes if size <= imaging.FALLBACK_WIDTH):
                formats.append(("JPEG", imaging.FALLBACK["JPEG"]))
            for name, options in formats:
                buffer = io.BytesIO()
                resized.save(buffer, name, **options)
                made += buffer.tell()
    return made


def pillow_floor(paths: list[Path], workers: int) -> float:
    """Return the wall time for Pillow alone to make every photo's variants in N processes."""
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        assert all(pool.map(_pillow_alone, paths))
    return time.perf_counter() - started


def measure_images(count: int, photos: int, repeat: int, workdir: Path, seed: int, saves: int) -> dict[str, object]:
    """Return medians of the image measurements over `repeat` interleaved rounds, and of `saves` live edits."""
    root = Path(tempfile.mkdtemp(prefix="kiln-bench-img-", dir=workdir))
    try:
        plain, pictured = root / "plain", root / "pictured"
        make_corpus(plain, count, seed)
        add_photo_articles(plain, photos, seed, photos=False)
        make_corpus(pictured, count, seed)
        edited = add_photo_articles(pictured, photos, seed, photos=True)
        images = sorted(pictured.glob("content/articles/photos-*/*.jpg"))
        names = ("floor", "cold_plain", "cold_pictured", "warm_plain", "warm_pictured", "warm_plain_cpu")
        runs: dict[str, list[float]] = {name: [] for name in (*names, "warm_pictured_cpu")}
        peak = 0.0
        for _ in range(repeat):
            runs["floor"].append(pillow_floor(images, os.cpu_count() or 1))
            for name, source in (("plain", plain), ("pictured", pictured)):
                clean(source, root / f"out-{name}")
                cold, memory, _ = timed_build_cpu(source, root / f"out-{name}")
                runs[f"cold_{name}"].append(cold)
                peak = max(peak, memory) if name == "pictured" else peak
            for _ in range(3):  # warm builds of both kinds in turn, so that the machine's drift hits both alike
                for name, source in (("plain", plain), ("pictured", pictured)):
                    wall, _, cpu = timed_build_cpu(source, root / f"out-{name}")
                    runs[f"warm_{name}"].append(wall)
                    runs[f"warm_{name}_cpu"].append(cpu)
        medians = {name: statistics.median(values) for name, values in runs.items()}
        image_time = medians["cold_pictured"] - medians["cold_plain"]
        edits = sorted(serve_and_measure(pictured, edited, saves)) if saves else []
        return {
            "articles": count,
            "photos": photos,
            "repeat": repeat,
            "cpus": os.cpu_count(),
            "median_seconds": medians | {"cold_images": image_time},
            "runs_seconds": runs,
            "cold_images_over_floor": round(image_time / medians["floor"], 3),
            "warm_difference_seconds": round(medians["warm_pictured"] - medians["warm_plain"], 3),
            "warm_cpu_difference_seconds": round(medians["warm_pictured_cpu"] - medians["warm_plain_cpu"], 3),
            "peak_memory_mb": round(peak, 1),
            "live_edit_ms": {
                "median": round(statistics.median(edits), 1) if edits else None,
                "runs": [round(edit, 1) for edit in edits],
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def print_images(results: list[dict[str, object]]) -> None:
    """Print the image measurements as a table."""
    columns = ("photos", "floor s", "images s", "/floor", "warm -img", "warm +img", "cpu +-", "peak MB", "edit ms")
    print(" ".join(f"{name:>10}" for name in columns))
    for result in results:
        m = result["median_seconds"]
        live = result["live_edit_ms"]
        assert isinstance(m, dict) and isinstance(live, dict)
        row = (
            result["photos"],
            f"{m['floor']:.3f}",
            f"{m['cold_images']:.3f}",
            f"{result['cold_images_over_floor']:.2f}",
            f"{m['warm_plain']:.3f}",
            f"{m['warm_pictured']:.3f}",
            f"{result['warm_cpu_difference_seconds']:+.3f}",
            result["peak_memory_mb"],
            live["median"] or "-",
        )
        print(" ".join(f"{value:>10}" for value in row))


def timed_build(source: Path, output: Path) -> tuple[float, float]:
    """Run one build process; return its wall time in seconds and its peak memory in MB."""
    elapsed, memory, _ = timed_build_cpu(source, output)
    return elapsed, memory


def timed_build_cpu(source: Path, output: Path) -> tuple[float, float, float]:
    """Run one build process; return its wall time and CPU time (user + system) in seconds, and peak memory in MB."""
    # As on an editor's machine, Python keeps its compiled bytecode (some sandboxes turn that off for everything).
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--source", str(source), "--output", str(output), "--quiet"],
        env=environment,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"build failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _convert_all(texts: list[str]) -> int:
    """Convert texts with Python-Markdown alone and our extension set, in one process; return how many."""
    import markdown

    from kiln.markup import EXTENSIONS

    converter = markdown.Markdown(extensions=list(EXTENSIONS))
    for text in texts:
        converter.reset()
        converter.convert(text)
    return len(texts)


def markdown_floor(paths: list[Path], workers: int) -> float:
    """Return the wall time for Python-Markdown alone, with our extensions, to convert the corpus in N processes."""
    texts = [path.read_text().split("\n---\n", 1)[1] for path in paths]
    chunks = [texts[index::workers] for index in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        assert sum(pool.map(_convert_all, chunks)) == len(texts)
    return time.perf_counter() - started


def index_time(source: Path) -> tuple[float, int]:
    """Return the wall time of making the search index alone (Pagefind, no cache) and the index's size in bytes.

    In a process of its own: the site it renders first would stay in this one, and a build process forked from a
    large parent reports the parent's memory as its own peak.
    """
    from multiprocessing import get_context

    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_index_time, source).result()


def _index_time(source: Path) -> tuple[float, int]:
    """In a spawned process: index_time's measurement."""
    from kiln.cache import IndexCache
    from kiln.errors import Problems
    from kiln.pipeline import Options, render
    from kiln.search import start_index

    site = render(Options(source=source, cache=False), index=False).site
    problems = Problems()
    started = time.perf_counter()
    files = start_index(site, IndexCache(None)).files(problems)
    elapsed = time.perf_counter() - started
    if problems.errors:
        raise SystemExit(f"indexing failed: {problems.errors[0].format()}")
    return elapsed, sum(len(data) for data in files.values())


def clean(source: Path, output: Path) -> None:
    """Remove the output and any cache, for a cold build."""
    shutil.rmtree(output, ignore_errors=True)
    shutil.rmtree(source / ".kiln-cache", ignore_errors=True)


def measure(count: int, repeat: int, workdir: Path, seed: int, saves: int, search: bool = True) -> dict[str, object]:
    """Return medians of every measurement over `repeat` interleaved rounds, and of `saves` live edits."""
    root = Path(tempfile.mkdtemp(prefix="kiln-bench-", dir=workdir))
    try:
        source, output = root / "src", root / "out"
        paths = make_corpus(source, count, seed, search)
        runs: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "one_change": [], "index": []}
        peak = 0.0
        index_bytes = 0
        for round_ in range(repeat):
            runs["floor"].append(markdown_floor(paths, os.cpu_count() or 1))
            index, index_bytes = index_time(source)
            runs["index"].append(index)
            clean(source, output)
            cold, memory = timed_build(source, output)
            runs["cold"].append(cold)
            runs["warm"].append(timed_build(source, output)[0])
            with paths[round_ % len(paths)].open("a") as handle:
                handle.write(f"\nOne more line, round {round_}.\n")
            runs["one_change"].append(timed_build(source, output)[0])
            peak = max(peak, memory)
        medians = {name: statistics.median(values) for name, values in runs.items()}
        edits = sorted(serve_and_measure(source, paths[0], saves)) if saves else []
        return {
            "articles": count,
            "repeat": repeat,
            "cpus": os.cpu_count(),
            "median_seconds": medians,
            "runs_seconds": runs,
            "peak_memory_mb": round(peak, 1),
            "index_bytes": index_bytes,
            "cold_over_floor": round(medians["cold"] / medians["floor"], 3),
            "live_edit_ms": {
                "median": round(statistics.median(edits), 1) if edits else None,
                "p90": round(edits[max(0, int(len(edits) * 0.9) - 1)], 1) if edits else None,
                "runs": [round(edit, 1) for edit in edits],
            },
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wordpress_export(count: int, seed: int) -> str:
    """Return a WordPress export (WXR) of `count` posts: the corpus's articles as the HTML WordPress stores."""
    import markdown

    rng = random.Random(seed)
    items = []
    for number in range(1, count + 1):
        text = article(number, rng)
        title = text.split("\n", 2)[1].removeprefix("title: ")
        body = markdown.markdown(text.split("\n---\n", 1)[1], extensions=["tables"])
        day = f"2024-{number % 12 + 1:02d}-{number % 28 + 1:02d} 10:00:00"
        items.append(
            f"<item><title><![CDATA[{title}]]></title><link>https://old.example.com/?p={number}</link>"
            f"<dc:creator>admin</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>"
            f"<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{number}</wp:post_id>"
            f"<wp:post_date>{day}</wp:post_date><wp:post_date_gmt>{day}</wp:post_date_gmt>"
            f"<wp:post_name>post-{number}</wp:post_name><wp:status>publish</wp:status>"
            f"<wp:post_type>post</wp:post_type><wp:post_password></wp:post_password>"
            f'<category domain="post_tag" nicename="t"><![CDATA[{rng.choice(TAGS)}]]></category></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>Old</title>'
        + "\n".join(items)
        + "</channel></rss>\n"
    )


def measure_import(count: int, workdir: Path, seed: int) -> dict[str, float | int]:
    """Return the wall time of `build.py import wordpress` for `count` posts, then of the cold build of the result."""
    root = Path(tempfile.mkdtemp(prefix="kiln-import-", dir=workdir))
    try:
        source = root / "src"
        shutil.copytree(REPO / "templates", source / "templates")
        shutil.copytree(REPO / "static", source / "static")
        (source / "site.yaml").write_text(CONFIG)
        (root / "export.xml").write_text(wordpress_export(count, seed))
        times = {}
        for name, command in (
            ("import", ["import", "wordpress", str(root / "export.xml"), "--source", str(source)]),
            ("build", ["--source", str(source), "--quiet"]),
        ):
            started = time.perf_counter()
            subprocess.run([sys.executable, str(REPO / "build.py"), *command], check=True, stdout=subprocess.DEVNULL)
            times[name] = time.perf_counter() - started
        return {"posts": count, "import_seconds": round(times["import"], 3), "build_seconds": round(times["build"], 3)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    """Run the benchmark and print a table (and JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--saves", type=int, default=15, help="live edits to time in serve (0: none)")
    default_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    parser.add_argument("--workdir", type=Path, default=default_dir, help="where the corpus goes (a tmpfs)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    parser.add_argument(
        "--imports", type=int, default=0, help="also import N posts from a WordPress export, then build"
    )
    parser.add_argument("--no-search", action="store_true", help="build the corpus with `search: false`")
    parser.add_argument("--images", type=int, default=0, help="measure images instead: this many 12 MP photos")
    args = parser.parse_args()
    if args.images:
        pictured = [
            measure_images(count, args.images, args.repeat, args.workdir, args.seed, args.saves)
            for count in args.articles
        ]
        print_images(pictured)
        if args.json:
            args.json.write_text(json.dumps(pictured, indent=2) + "\n")
        return 0
    results: list[dict[str, object]] = [
        measure(count, args.repeat, args.workdir, args.seed, args.saves, not args.no_search) for count in args.articles
    ]
    columns = ("articles", "floor s", "cold s", "cold/floor", "warm s", "1 change s", "index s", "peak MB", "edit ms")
    print(" ".join(f"{name:>10}" for name in columns))
    for result in results:
        m = result["median_seconds"]
        assert isinstance(m, dict)
        row = (
            result["articles"],
            f"{m['floor']:.3f}",
            f"{m['cold']:.3f}",
            f"{result['cold_over_floor']:.2f}",
            f"{m['warm']:.3f}",
            f"{m['one_change']:.3f}",
            f"{m['index']:.3f}",
            result["peak_memory_mb"],
            live["median"] if isinstance(live := result["live_edit_ms"], dict) and live["median"] else "-",
        )
        print(" ".join(f"{value:>10}" for value in row))
    if args.imports:
        imported = measure_import(args.imports, args.workdir, args.seed)
        print(
            f"import of {imported['posts']} WordPress posts: {imported['import_seconds']:.2f} s, "
            f"then a cold build of them: {imported['build_seconds']:.2f} s"
        )
        results.append({"import": imported})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
