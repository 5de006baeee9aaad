"""What a person reads on a page or in a message of the demo: a page's text as a phone shows
it, and the customer links in a message. Shared by the demo's story modules."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _PageText(HTMLParser):
    """A page's <main> as a person reads it: one line per block, buttons in brackets."""

    BLOCKS = frozenset({"p", "h1", "h2", "li", "div", "button", "legend", "tr"})

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = 0  # inside <main>
        self.skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main":
            self.depth += 1
        elif tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self._end_line()
        if tag == "button" and self.depth:
            self.current.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self.depth:
            self.current.append("]")
        if tag == "main":
            self._end_line()
            self.depth -= 1
        elif tag in ("script", "style"):
            self.skip -= 1
        elif tag == "dt":
            self.current.append(":")
        elif tag in self.BLOCKS or tag == "dd":
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.current.append(data)

    def _end_line(self) -> None:
        line = re.sub(r"\s+", " ", " ".join(self.current)).strip().replace(" :", ":")
        if line and (not self.lines or self.lines[-1] != line):
            self.lines.append(line)
        self.current = []


def page_text(html: str) -> str:
    parser = _PageText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.lines)


def link_in(text: str, purpose: str) -> str | None:
    found = re.search(rf"https?://\S+?/{purpose}/[A-Za-z0-9_.\-]+", text)
    return found.group(0) if found else None
