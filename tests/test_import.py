"""`build.py import wordpress|markdown`: exports and folders written here, imported, built, every page parsed."""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import CONFIG, Run, lay_out, run, soup, write_files
from PIL import Image

from kiln.importers import wordpress
from kiln.importers.common import Post, free_aliases

OLD = "https://old.example.com"
UPLOADS = f"{OLD}/wp-content/uploads"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def item(
    post_id: int,
    title: str,
    content: str = "<p>Text.</p>",
    *,
    kind: str = "post",
    status: str = "publish",
    name: str | None = None,
    date: str = "2019-04-02 12:30:00",
    gmt: str = "2019-04-02 10:30:00",
    modified: str = "2019-04-02 12:30:00",
    modified_gmt: str = "2019-04-02 10:30:00",
    excerpt: str = "",
    terms: tuple[tuple[str, str], ...] = (),
    sticky: bool = False,
    password: str = "",
    parent: int = 0,
    attachment: str = "",
    comments: int = 0,
    link: str | None = None,
) -> str:
    """Return one <item> of a WXR file, as WordPress writes it."""
    slug = name if name is not None else re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    link = link if link is not None else f"{OLD}/2019/04/{slug}/"
    categories = "".join(
        f'<category domain="{domain}" nicename="{text.lower()}"><![CDATA[{text}]]></category>' for domain, text in terms
    )
    comment = "<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content><![CDATA[Hi]]></wp:comment_content>"
    return f"""
<item>
  <title><![CDATA[{title}]]></title>
  <link>{link}</link>
  <pubDate>Tue, 02 Apr 2019 10:30:00 +0000</pubDate>
  <dc:creator><![CDATA[admin]]></dc:creator>
  <guid isPermaLink="false">{OLD}/?p={post_id}</guid>
  <description></description>
  <content:encoded><![CDATA[{content}]]></content:encoded>
  <excerpt:encoded><![CDATA[{excerpt}]]></excerpt:encoded>
  <wp:post_id>{post_id}</wp:post_id>
  <wp:post_date><![CDATA[{date}]]></wp:post_date>
  <wp:post_date_gmt><![CDATA[{gmt}]]></wp:post_date_gmt>
  <wp:post_modified><![CDATA[{modified}]]></wp:post_modified>
  <wp:post_modified_gmt><![CDATA[{modified_gmt}]]></wp:post_modified_gmt>
  <wp:post_name><![CDATA[{slug}]]></wp:post_name>
  <wp:status><![CDATA[{status}]]></wp:status>
  <wp:post_parent>{parent}</wp:post_parent>
  <wp:post_type><![CDATA[{kind}]]></wp:post_type>
  <wp:post_password><![CDATA[{password}]]></wp:post_password>
  <wp:is_sticky>{int(sticky)}</wp:is_sticky>
  {f"<wp:attachment_url><![CDATA[{attachment}]]></wp:attachment_url>" if attachment else ""}
  {categories}
  {(comment + "</wp:comment>") * comments}
</item>"""


def wxr(*items: str) -> str:
    """Return a whole WordPress export around items."""
    return f"""<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old blog</title>
  <link>{OLD}</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[admin]]></wp:author_login>
    <wp:author_display_name><![CDATA[Dana Reyes]]></wp:author_display_name></wp:author>
  {"".join(items)}
</channel>
</rss>
"""


GUTENBERG = f"""<!-- wp:paragraph -->
<p>Welcome to the <strong>new</strong> blog. Read <a href="{OLD}/2019/04/sticky-news/">the news</a>
and <a href="{OLD}/?p=7">the about page</a>.</p>
<!-- /wp:paragraph -->
<!-- wp:heading {{"level":1}} -->
<h1 class="wp-block-heading" id="first-part">First part</h1>
<!-- /wp:heading -->
<!-- wp:paragraph --><p>See <a href="#first-part">above</a> and <a href="#nowhere">nowhere</a>.</p>
<!-- /wp:paragraph -->
<!-- wp:heading {{"level":2}} --><h2 class="wp-block-heading">Deeper</h2><!-- /wp:heading -->
<!-- wp:list --><ul><li>One</li><li>Two</li></ul><!-- /wp:list -->
<!-- wp:quote --><blockquote class="wp-block-quote"><p>Quoted.</p></blockquote><!-- /wp:quote -->
<!-- wp:code --><pre class="wp-block-code"><code>print("hi")</code></pre><!-- /wp:code -->
<!-- wp:table --><figure class="wp-block-table"><table><thead><tr><th>Skill</th><th>Weeks</th></tr></thead>
<tbody><tr><td>Calm</td><td>3</td></tr></tbody></table></figure><!-- /wp:table -->
<!-- wp:paragraph --><p>A claim<sup data-fn="f1" class="fn"><a href="#f1" id="f1-link">1</a></sup>.</p>
<!-- /wp:paragraph -->
<!-- wp:paragraph --><p></p><!-- /wp:paragraph -->
<p>&nbsp;</p>
<!-- wp:latest-posts /-->
<!-- wp:footnotes --><ol class="wp-block-footnotes"><li id="f1">The source. <a href="#f1-link">↩︎</a></li></ol>
<!-- /wp:footnotes -->
<p>[contact-form-7 id="12" title="Contact"]</p>
<p>Write &lt;b&gt; for bold &amp;amp; <code>&lt;i&gt;</code> for italics.</p>
<p>Cheap<script>alert(1)</script> <b onclick="alert(2)">bold</b></p>"""

CLASSIC = f"""First paragraph of a classic post.
Second line.

[caption id="attachment_50" align="aligncenter" width="300"]<img src="{UPLOADS}/photo.png" alt="A calm lake" \
width="300" height="200" /> A calm lake at dawn[/caption]

[gallery ids="50,51"]"""


def export() -> str:
    """Return the export the tests import: one of each kind of thing WordPress writes."""
    return wxr(
        item(
            1,
            "Hello &amp; welcome",
            GUTENBERG,
            name="hello-world",
            excerpt="<p>A short <em>hello</em>.</p>",
            modified="2019-05-01 09:00:00",
            modified_gmt="2019-05-01 07:00:00",
            terms=(("category", "News"), ("category", "Uncategorized"), ("post_tag", "Trust"), ("post_tag", "news")),
            comments=2,
        ),
        item(7, "About us", "<p>About this site.</p>", kind="page", name="about-us", link=f"{OLD}/about-us/"),
        item(8, "Team", "<h2>People</h2><p>Us.</p>", kind="page", name="team", link=f"{OLD}/about-us/team/"),
        item(2, "A draft", status="draft", gmt="0000-00-00 00:00:00", link=f"{OLD}/?p=2"),
        item(3, "Waiting for review", status="pending"),
        item(4, "Only for us", status="private"),
        item(5, "Coming soon", status="future", date="2030-01-01 08:00:00", gmt="2030-01-01 07:00:00"),
        item(6, "Sticky news", sticky=True),
        item(9, "Members only", password="secret"),
        item(10, "Lake photos", CLASSIC),
        item(11, "", "<p>Untitled thoughts about calm mornings and long walks.</p>", name=""),
        item(12, "A very long title " + "that goes on " * 20),
        item(13, "Fish &amp;amp; chips &#8217;n&#8217; <em>more</em>"),
        item(14, "Escape", name="..%2F..%2F..%2Fevil"),
        item(15, "Old trash", status="trash"),
        item(16, "Never dated", status="draft", date="0000-00-00 00:00:00", modified="bad", gmt="bad"),
        item(
            50,
            "photo",
            kind="attachment",
            status="inherit",
            parent=10,
            attachment=f"{OLD}/wp-content/uploads/photo.png",
        ),
        item(
            51, "photo2", kind="attachment", status="inherit", parent=10, attachment=f"{OLD}/wp-content/uploads/two.png"
        ),
        item(60, "Home", kind="nav_menu_item"),
        item(61, "About", kind="nav_menu_item"),
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Return a site with nothing in content/."""
    return lay_out(tmp_path / "src", {})


def import_(capsys: pytest.CaptureFixture[str], source: Path, *args: str) -> Run:
    """Run `build.py import ARGS --source SOURCE`."""
    return run(capsys, "import", *args, "--source", str(source))


def front(path: Path) -> dict[str, object]:
    """Return a content file's front matter."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def assert_sound(capsys: pytest.CaptureFixture[str], source: Path, *pages: str) -> None:
    """Build (with drafts) and parse every page: one h1, no skipped levels, aliases and internal links lead home."""
    built = run(capsys, "build", "--source", str(source), "--drafts", "--now", "2026-11-27T12:00:00+00:00")
    assert built.code == 0, built.err
    folder = source / "site"
    for name in pages:
        assert (folder / name).is_file(), name
    for written in (source / "content").rglob("*.md"):  # each old URL leads to its own page
        fields = front(written)
        section = written.relative_to(source / "content").parts[0]
        url = f"/articles/{fields['slug']}/" if section == "articles" else f"/{fields['slug']}/"
        for alias in fields.get("aliases", []):  # type: ignore[attr-defined]
            alias = alias if alias.endswith(("/", ".html", ".htm")) else alias + "/"  # as the build reads it
            redirect = soup(folder / (alias.lstrip("/") + ("index.html" if alias.endswith("/") else "")))
            assert redirect.find("link", rel="canonical")["href"] == "https://example.org" + url, (written, alias)
    for page in folder.rglob("*.html"):
        parsed = soup(page)
        refresh = parsed.find("meta", attrs={"http-equiv": "refresh"})
        if refresh is not None:  # an old URL: it must lead to a page of the site
            target = urlsplit(str(refresh["content"]).split("url=", 1)[1]).path
            assert (folder / target.lstrip("/") / "index.html").is_file(), (page, target)
            continue
        headings = [int(h.name[1]) for h in parsed.find_all(re.compile(r"^h[1-6]$"))]
        assert headings.count(1) == 1, (page, headings)
        assert all(b <= a + 1 for a, b in zip(headings, headings[1:], strict=False)), (page, headings)
        for link in parsed.find_all("a", href=True):
            href = str(link["href"])
            path, _, fragment = href.partition("#")
            if href.startswith("/") and not href.startswith("//"):
                target = folder / path.lstrip("/")
                target = target / "index.html" if path.endswith("/") else target
                assert target.is_file(), (page, href)
                if fragment:
                    assert soup(target).find(id=fragment) is not None, (page, href)
            elif href.startswith("#") and len(href) > 1:
                assert parsed.find(id=href[1:]) is not None, (page, href)


def test_a_wordpress_export_becomes_articles_and_pages_that_build(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    (tmp_path / "export.xml").write_text(export(), encoding="utf-8")
    result = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Imported 11 articles and 2 pages into content/ (3 as drafts)."
    assert "Skipped 1 (password-protected, not published here): 'Members only' (post 9)." in lines
    assert "Skipped 1 (no date the build can read): post 16." in lines
    assert "Not imported: 2 attachment pages, 2 comments, 2 menu items, 1 post in the trash." in lines
    articles = source / "content" / "articles"

    hello = front(articles / "hello-world.md")
    assert hello == {
        "title": "Hello & welcome",
        "date": "2019-04-02T12:30:00+02:00",
        "author": "Dana Reyes",
        "tags": ["News", "Trust"],
        "updated": "2019-05-01T09:00:00+02:00",
        "description": "A short hello.",
        "slug": "hello-world",
        "aliases": ["/2019/04/hello-world/"],
    }
    text = (articles / "hello-world.md").read_text(encoding="utf-8")
    assert "wp:" not in text and "<script" not in text and "onclick" not in text and "alert" not in text
    assert "# First part {#first-part}" in text and "## Deeper" in text and "- One" in text
    assert "| Skill | Weeks |" in text and '```\nprint("hi")\n```' in text and "> Quoted." in text
    assert "A claim[^1]." in text and "[^1]: The source." in text
    assert "[the news](/articles/sticky-news/)" in text and "[the about page](/about-us/)" in text
    assert "[contact-form-7" in text  # kept as text, and said
    assert "Write &lt;b> for bold &amp;amp; `<i>` for italics." in text  # text about HTML stays text
    for said in (
        "content/articles/hello-world.md: note: block comment `wp:latest-posts` removed",
        "content/articles/hello-world.md: note: shortcode [contact-form-7] cannot be converted; kept as text",
        "content/articles/hello-world.md: note: 2 empty paragraphs removed",
        "content/articles/hello-world.md: note: removed by the sanitiser: <script>",
    ):
        assert any(line.startswith(said) for line in lines), said

    assert front(articles / "a-draft.md")["draft"] is True
    assert front(articles / "a-draft.md")["date"] == "2019-04-02T12:30:00"  # not yet published: the site's zone
    assert front(articles / "waiting-for-review.md")["draft"] is True
    assert front(articles / "only-for-us.md")["draft"] is True
    assert front(articles / "coming-soon.md")["date"] == "2030-01-01T08:00:00+01:00"
    assert "draft" not in front(articles / "coming-soon.md")
    assert not list(source.rglob("members-only*"))
    assert "`sticky` (1 file)" in result.out  # not declared in site.yaml: listed
    assert front(source / "content/pages/team.md")["aliases"] == ["/about-us/team/"]
    assert "aliases" not in front(source / "content/pages/about-us.md")  # the same URL as before

    lake = articles / "lake-photos" / "index.md"  # a post with images is a bundle
    assert front(lake)["slug"] == "lake-photos"
    lake_text = lake.read_text(encoding="utf-8")
    assert f"![A calm lake]({OLD}/wp-content/uploads/photo.png)\n\n*A calm lake at dawn*" in lake_text
    assert f"![]({OLD}/wp-content/uploads/two.png)" in lake_text  # the gallery, from its attachments
    assert "First paragraph of a classic post.\\\nSecond line." in lake_text

    untitled = front(articles / "untitled-thoughts-about-calm-mornings-and-long-walks.md")
    assert untitled["title"] == "Untitled thoughts about calm mornings and long walks."
    long_one = next(articles.glob("a-very-long-title-*.md"))
    assert len(long_one.stem) <= 80 and str(front(long_one)["title"]).startswith("A very long title that goes")
    fish = next(articles.glob("fish-*.md"))
    assert front(fish)["title"] == "Fish &amp; chips ’n’ <em>more</em>"  # decoded once, not twice
    assert (articles / "evil.md").is_file()  # ../ in a slug stays inside content/

    assert "lake-photos/index.md: note: 4 empty" not in result.out  # only the post's own are counted
    assert "never-dated" not in result.out  # skipped: nothing to look at
    assert_sound(
        capsys, source, "articles/hello-world/index.html", "about-us/index.html", "articles/lake-photos/index.html"
    )
    checked = run(capsys, "check", "--source", str(source), "--now", "2026-11-27T12:00:00+00:00")
    assert checked.code == 0, checked.err
    assert "h1" not in checked.err  # old URLs' redirect pages are not pages to check
    page = soup(source / "site/articles/hello-world/index.html")
    assert page.find("h1").get_text() == "Hello & welcome"
    assert page.find("script", string=re.compile("alert")) is None and "onclick" not in str(page)
    assert [h.get_text() for h in page.select("main h2")][:1] == ["First part"]
    assert page.find(string=re.compile("Write <b> for bold &amp; ")) is not None


def test_a_sticky_post_keeps_its_flag_where_the_site_declares_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = lay_out(tmp_path / "src", {"site.yaml": CONFIG + "fields:\n  sticky: bool\n"})
    (tmp_path / "export.xml").write_text(wxr(item(6, "Sticky news", sticky=True)), encoding="utf-8")
    assert import_(capsys, source, "wordpress", str(tmp_path / "export.xml")).code == 0
    assert front(source / "content/articles/sticky-news.md")["sticky"] is True


def test_importing_again_changes_nothing_and_a_clash_is_skipped(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    (tmp_path / "export.xml").write_text(export(), encoding="utf-8")
    assert import_(capsys, source, "wordpress", str(tmp_path / "export.xml")).code == 0
    edited = source / "content/articles/sticky-news.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nMy edit.\n", encoding="utf-8")
    before = {path: path.read_bytes() for path in source.rglob("*") if path.is_file()}
    again = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"))
    assert again.code == 0
    assert again.out.splitlines()[0] == "Imported 0 articles and 0 pages into content/."
    assert "Already imported, unchanged: 12 files." in again.out
    assert (
        "Skipped 1 (a different file is already there): content/articles/sticky-news.md (from post 6)."
        in again.out.splitlines()
    )
    assert {path: path.read_bytes() for path in source.rglob("*") if path.is_file()} == before


@pytest.mark.parametrize(
    ("name", "xml", "message"),
    [
        (
            "bomb",
            '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
            + "".join(f' <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n' for n in range(1, 10))
            + "]>\n<rss><channel><item><title>&lol9;</title></item></channel></rss>\n",
            "export.xml: the export declares entities or a document type, which a WordPress export never does",
        ),
        (
            "external",
            '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<rss>&xxe;</rss>\n',
            "export.xml: the export declares entities or a document type, which a WordPress export never does",
        ),
        ("malformed", "<rss><channel><item></channel></rss>", "export.xml:1: the export is not well-formed XML"),
        ("not-wordpress", "<html><body>Hi</body></html>", "export.xml: the file is not a WordPress export"),
    ],
)
def test_a_hostile_or_broken_export_is_a_clear_error_in_bounded_time(
    capsys: pytest.CaptureFixture[str],
    source: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    xml: str,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.xml").write_text(xml, encoding="utf-8")
    started = time.monotonic()
    result = run(capsys, "import", "wordpress", "export.xml", "--source", str(source))
    assert time.monotonic() - started < 2
    assert result.code == 1
    assert result.err.startswith(message), result.err
    assert not (source / "content").exists() or not list((source / "content").rglob("*.md"))


@pytest.fixture
def images(tmp_path: Path) -> Iterator[str]:
    """Serve images on 127.0.0.1 (never the internet): /photo.png, /big.png, /page.png (HTML), others 404."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "photo.png").write_bytes(PNG)
    (folder / "big.png").write_bytes(PNG + b"\0" * 4096)
    (folder / "page.png").write_bytes(b"<html></html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def guess_type(self, path: str | object) -> str:  # type: ignore[override]
            return "text/html" if str(path).endswith("page.png") else "image/png"

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_images_are_downloaded_into_the_bundle_only_when_asked(
    capsys: pytest.CaptureFixture[str],
    source: Path,
    tmp_path: Path,
    images: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(wordpress, "MAX_IMAGE_BYTES", len(PNG) + 100)
    body = "".join(
        f'<p><img src="{images}/{name}" alt="{name}"></p>' for name in ("photo.png", "big.png", "page.png", "gone.png")
    )
    # http:// is what the local server speaks; the import would make an old site's http links https
    monkeypatch.setattr("kiln.importers.html._upgrade", lambda url: url)
    (tmp_path / "export.xml").write_text(wxr(item(20, "Pictures", body)), encoding="utf-8")
    result = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"), "--download-images")
    assert result.code == 0, result.err
    bundle = source / "content/articles/pictures"
    assert (bundle / "photo.png").read_bytes() == PNG
    assert sorted(path.name for path in bundle.iterdir()) == ["index.md", "photo.png"]
    text = (bundle / "index.md").read_text(encoding="utf-8")
    assert "![photo.png](photo.png)" in text
    for name, why in (("big", "larger than"), ("page", "not an image"), ("gone", "404")):
        assert f"![{name}.png]({images}/{name}.png)" in text
        assert re.search(
            rf"note: image kept as a link: {images}/{name}.png could not be downloaded \(.*{why}", result.out
        )


def test_without_download_images_nothing_is_fetched(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordpress, "fetch", lambda url: pytest.fail(f"fetched {url}"))
    body = f'<p><img src="{OLD}/a.png" alt="A"></p>'
    (tmp_path / "export.xml").write_text(wxr(item(20, "Pictures", body)), encoding="utf-8")
    result = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"))
    assert result.code == 0
    assert f"![A]({OLD}/a.png)" in (source / "content/articles/pictures/index.md").read_text(encoding="utf-8")
    assert "images are links to the old site (import with --download-images to bring them in)" in result.out


JEKYLL = {
    "_posts/2019-04-02-first-steps.md": """---
layout: post
title: First steps
categories: therapy, trust
tags: [calm]
excerpt: How to begin.
permalink: /2019/first-steps.html
reading_level: 3
series: basics
---
# First steps

Read [the next one]({% post_url 2019-05-01-second %}).

{% highlight python %}
print("hi")
{% endhighlight %}

{% include note.html %}
""",
    "_posts/2019-05-01-second.md": "---\nlayout: post\ntitle: Second\ndate: 2019-05-01 10:30:00 +0200\n"
    "last_modified_at: 2019-06-01\npublished: false\n---\n# Part one\n\nText.\n\n## Detail\n\nMore.\n",
    "_drafts/an-idea.md": "---\ntitle: An idea\n---\nNot yet.\n",
    "about.md": "---\nlayout: page\ntitle: About\npermalink: /about/\n---\nAbout us.\n",
}
HUGO = {
    "content/posts/first.md": '+++\ntitle = "Hugo first"\ndate = 2020-01-02T10:00:00+01:00\n'
    'lastmod = 2020-02-01\ntags = ["calm"]\ncategories = ["Trust"]\naliases = ["old/first"]\n'
    'summary = "A summary."\ndraft = true\n+++\nText with {{< ref "second.md" >}} link.\n',
    "content/posts/second/index.md": '---\ntitle: "Hugo second"\ndate: 2020-01-05\nurl: /2020/second/\n---\n'
    '{{< figure src="cat.png" alt="A cat" caption="Our cat" >}}\n',
    "content/posts/second/cat.png": "a real PNG, made by the test",
    "content/posts/_index.md": "---\ntitle: Posts\n---\n",
}
HEXO = {
    "source/_posts/hexo-post.md": "title: Hexo post\ndate: 2021-03-04 05:06:07\nupdated: 2021-04-01 00:00:00\n"
    "categories:\n- [Life, Calm]\ntags:\n- trust\n---\nIntro.\n\n<!-- more -->\n\n{% asset_img pic.png A picture %}\n",
}

ELEVENTY = {
    "posts/why.md": '---\ntitle: Why\ndate: 2022-02-02\ntags: [post, trust]\npermalink: "/blog/{{ page.fileSlug }}/"\n'
    "---\nText.\n",
    "posts/about.md": "---\ntitle: About\npermalink: /about/\n---\nUs.\n",
}


@pytest.mark.parametrize(
    ("files", "folder", "expected"),
    [
        (JEKYLL, "", {"articles/first-steps.md", "articles/second.md", "pages/about.md"}),
        (HUGO, "content/posts", {"articles/first.md", "articles/second/index.md", "articles/second/cat.png"}),
        (HEXO, "source/_posts", {"articles/hexo-post.md"}),
        (ELEVENTY, "posts", {"articles/why.md", "pages/about.md"}),
    ],
    ids=["jekyll", "hugo", "hexo", "eleventy"],
)
def test_a_markdown_folder_of_another_generator_is_mapped_and_builds(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    files: dict[str, str],
    folder: str,
    expected: set[str],
) -> None:
    source = lay_out(tmp_path / "src", {"site.yaml": CONFIG + "fields:\n  reading_level: number\n"})
    blog = tmp_path / "blog"
    for name, text in files.items():
        (blog / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".png"):
            Image.new("RGB", (40, 30), (90, 140, 200)).save(blog / name)
        else:
            (blog / name).write_text(text, encoding="utf-8")
    result = import_(capsys, source, "markdown", str(blog / folder))
    assert result.code == 0, result.err
    written = {path.relative_to(source / "content").as_posix() for path in (source / "content").rglob("*.*")}
    assert expected <= written, written
    assert_sound(capsys, source)
    again = import_(capsys, source, "markdown", str(blog / folder))
    assert again.out.splitlines()[0] == "Imported 0 articles and 0 pages into content/."


def test_jekyll_front_matter_is_mapped_to_ours(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = lay_out(tmp_path / "src", {"site.yaml": CONFIG + "fields:\n  reading_level: number\n"})
    blog = tmp_path / "blog"
    for name, text in JEKYLL.items():
        (blog / name).parent.mkdir(parents=True, exist_ok=True)
        (blog / name).write_text(text, encoding="utf-8")
    result = import_(capsys, source, "markdown", str(blog))
    articles = source / "content/articles"
    assert front(articles / "first-steps.md") == {
        "title": "First steps",
        "description": "How to begin.",
        "date": "2019-04-02",
        "tags": ["therapy", "trust", "calm"],
        "slug": "first-steps",
        "aliases": ["/2019/first-steps.html"],
        "reading_level": 3,
    }
    second = front(articles / "second.md")
    assert second["date"] == "2019-05-01T10:30:00+02:00" and second["updated"] == "2019-06-01"
    assert second["draft"] is True
    assert front(articles / "an-idea.md")["draft"] is True
    assert front(source / "content/pages/about.md")["slug"] == "about"
    body = (articles / "first-steps.md").read_text(encoding="utf-8")
    assert "[the next one](/articles/second/)" in body and '```python\nprint("hi")\n```' in body
    assert "`series` (1 file)" in result.out and "`layout`" not in result.out
    assert "content/articles/first-steps.md: note: template tags cannot be converted" in result.out
    built = run(capsys, "build", "--source", str(source), "--drafts")
    assert built.code == 0 and built.err == ""
    page = BeautifulSoup((source / "site/articles/first-steps/index.html").read_text(), "html.parser")
    assert [h.get_text() for h in page.find_all("h1")] == ["First steps"]  # not twice


def test_an_old_address_that_is_another_posts_new_url_is_not_an_alias() -> None:
    posts = [
        Post("page", "about", {"title": "About", "aliases": ["/old-about/"]}, "", "page 1"),
        Post("article", "news", {"title": "News", "aliases": ["/about/", "/old-about/", "/news/"]}, "", "post 2"),
    ]
    assert [post.front.get("aliases") for post in free_aliases(posts)] == [["/old-about/"], ["/news/"]]


def test_an_export_over_the_size_limit_is_refused_before_it_is_read(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wordpress, "MAX_EXPORT_BYTES", 1000)
    (tmp_path / "export.xml").write_text(export(), encoding="utf-8")
    result = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"))
    assert result.code == 1
    assert result.err.startswith(f"{tmp_path / 'export.xml'}: the export is too large (expected at most 0 MiB")


def test_many_posts_are_converted_on_every_core_in_the_same_order(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    posts = [item(n, f"Post {n}", f"<p>Text of post {n}.</p><h1>Part {n}</h1>") for n in range(1, 81)]
    (tmp_path / "export.xml").write_text(wxr(*posts), encoding="utf-8")  # over kiln.pool's threshold of 64
    result = import_(capsys, source, "wordpress", str(tmp_path / "export.xml"))
    assert result.out.splitlines()[0] == "Imported 80 articles and 0 pages into content/."
    for n in (1, 40, 80):
        text = (source / f"content/articles/post-{n}.md").read_text(encoding="utf-8")
        assert f"Text of post {n}.\n\n# Part {n}\n" in text


@pytest.mark.parametrize("has_page", [False, True])
def test_a_login_with_no_author_page_becomes_a_plain_name_and_the_import_builds(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path, has_page: bool
) -> None:
    site = source
    if has_page:
        write_files(site, {"content/authors/ed-min.md": "---\nname: Ed Min\ncredentials: PhD\n---\nWrites.\n"})
    export = tmp_path / "export.xml"
    # an export without <wp:author> entries names its writers by login alone
    text = wxr(item(1, "Old post")).replace("<dc:creator><![CDATA[admin]]>", "<dc:creator><![CDATA[ed-min]]>")
    export.write_text(text, encoding="utf-8")
    result = import_(capsys, site, "wordpress", str(export))
    assert result.code == 0, result.err
    written = site / "content/articles/old-post.md"
    assert front(written)["author"] == ("ed-min" if has_page else "Ed Min")
    assert ("`author: ed-min` names no author page" in result.out) is not has_page
    built = run(capsys, "build", "--source", str(site), "--now", "2026-11-27T12:00:00+00:00")
    assert built.code == 0, built.err
    byline = soup(site / "site/articles/old-post/index.html").find(string=re.compile("Written by"))
    assert byline is not None
    link = byline.parent.find("a")
    assert (link is not None and link["href"] == "/authors/ed-min/") if has_page else link is None


def test_a_picture_the_old_folder_does_not_hold_becomes_its_description(
    capsys: pytest.CaptureFixture[str], source: Path, tmp_path: Path
) -> None:
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "2021-03-04-walk.md").write_text(
        "---\ntitle: A walk\n---\nBefore.\n\n![A quiet path](path.jpg)\n\n![](https://example.org/x.png)\n",
        encoding="utf-8",
    )
    result = import_(capsys, source, "markdown", str(blog))
    assert result.code == 0, result.err
    assert "1 picture not found with the post (path.jpg)" in result.out
    body = (source / "content/articles/walk.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    assert "*A quiet path*" in body and "](https://example.org/x.png)" in body  # an outside picture stays
    built = run(capsys, "build", "--source", str(source), "--now", "2026-11-27T12:00:00+00:00")
    assert built.code == 0, built.err
