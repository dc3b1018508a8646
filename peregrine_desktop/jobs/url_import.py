"""Turn a job posting's web address into a draft job: fetch the page, read its schema.org
``JobPosting`` JSON-LD (what most applicant-tracking systems publish), else its OpenGraph tags or
``<title>``.  Runs on a worker thread; the user reviews the draft before anything is saved.

Parsing uses the standard library's ``html.parser``: pages are read, never rendered.
"""
from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from peregrine_desktop.jobs.page_fetch import FetchProblem, FetchTimedOut, PageFetch
from peregrine_sdk.errors import ErrorKind

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 4 * 1024 * 1024   # postings are small; a huge answer is not a posting
MAX_JSON_LD_CHARS = 1024 * 1024    # one posting's data is a few KB
MAX_JSON_LD_DEPTH = 64             # schema.org nests a handful of levels; deeper is not a posting
UNREADABLE_JSON_LD = ("The page's job data is too large or too deeply nested to read, so it "
                      "was skipped.")

FOUND_IN_JSON_LD = "json-ld"
FOUND_IN_OPENGRAPH = "opengraph"
FOUND_IN_TITLE = "title"
FOUND_NOTHING = "nothing"

#: What the dialog tells the user about where the details came from.
FOUND_MESSAGES = {
    FOUND_IN_JSON_LD: "Filled in from the posting's job data. Check the details, then save.",
    FOUND_IN_OPENGRAPH: "This page has no structured job data, so only its title and summary "
                        "were filled in. Check the details, then save.",
    FOUND_IN_TITLE: "This page has no job data, so only its title was filled in. Add the "
                    "company and other details, then save.",
    FOUND_NOTHING: "Nothing could be read from this page. Fill in the details by hand, then save.",
}

_KIND_SENTENCES = {
    ErrorKind.TIMEOUT: "The site took too long to answer. Try again, or fill in the details by "
                       "hand.",
    ErrorKind.CANNOT_CONNECT: "Could not reach the site. Check the address and your internet "
                              "connection, then try again.",
}

_UNITS = {"HOUR": "per hour", "DAY": "per day", "WEEK": "per week", "MONTH": "per month",
          "YEAR": "per year"}


class PostingFetchError(Exception):
    """The page could not be read; ``str(error)`` is a sentence for the user."""


@dataclass
class PostingDraft:
    """Job values read from a page, and where they came from (a ``FOUND_*`` constant)."""

    values: dict[str, Any] = field(default_factory=dict)
    found_in: str = FOUND_NOTHING
    #: A sentence about something on the page that could not be read, or "".
    note: str = ""

    @property
    def message(self) -> str:
        return f"{self.note} {FOUND_MESSAGES[self.found_in]}" if self.note else \
            FOUND_MESSAGES[self.found_in]


# -- fetching ---------------------------------------------------------------------------------------
def status_sentence(status: int) -> str:
    if status in (404, 410):
        return (f"The page was not found (HTTP {status}). Check the address; the posting may "
                "have been taken down.")
    if status in (401, 403):
        return (f"The site would not show this page without signing in (HTTP {status}). Copy "
                "the details from your browser instead.")
    if status == 429:
        return "The site asked us to slow down (HTTP 429). Wait a minute, then try again."
    if status >= 500:
        return f"The site is having trouble (HTTP {status}). Try again later."
    return f"The site answered with an error (HTTP {status}). Check the address."


def fetch_posting(url: str, timeout: float | tuple[float, float] = (5.0, 15.0),
                  deadline: float = 30.0, fetch: PageFetch | None = None) -> PostingDraft:
    """Download ``url`` and read a draft job from it.  Raises :class:`PostingFetchError`.

    ``fetch`` (made here when not given) is what another thread cancels; ``deadline`` bounds
    the whole download, ``timeout`` each connect and read."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostingFetchError("Paste the posting's web address (it starts with https://).")
    connect_timeout, read_timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    fetch = fetch or PageFetch(deadline=deadline, connect_timeout=connect_timeout,
                               read_timeout=read_timeout, max_bytes=MAX_PAGE_BYTES)
    try:
        page = fetch.get(url, {
            "User-Agent": "PeregrineDesktop/0.1",
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            "Accept-Language": "en;q=0.9, *;q=0.5"})
    except FetchTimedOut:
        raise PostingFetchError(_KIND_SENTENCES[ErrorKind.TIMEOUT]) from None
    except FetchProblem as exc:
        sentence = str(exc)
        if sentence.startswith("Could not reach the site"):
            sentence = _KIND_SENTENCES[ErrorKind.CANNOT_CONNECT]
        raise PostingFetchError(sentence) from None
    if page.status >= 400:
        raise PostingFetchError(status_sentence(page.status))
    mime = page.content_type.split(";")[0].strip().lower()
    if mime and not (mime.startswith("text/") or "html" in mime or "xml" in mime):
        raise PostingFetchError(
            f"That address leads to a file ({mime}), not a web page. Paste the address "
            "of the posting's page.")
    return parse_posting(decode_page(page.body, page.content_type), url)


def decode_page(body: bytes, content_type: str = "") -> str:
    """Bytes → text using the header's charset, else a ``<meta charset>``, else UTF-8."""
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I) or re.search(
        rb"<meta[^>]+charset=[\"']?([\w.:-]+)", body[:4096], re.I)
    charset = match.group(1) if match else "utf-8"
    if isinstance(charset, bytes):
        charset = charset.decode("ascii", "replace")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


# -- reading the page -------------------------------------------------------------------------------
class _PageScanner(HTMLParser):
    """Collects JSON-LD blocks, meta tags and the <title> in one pass."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.json_ld: list[str] = []
        self.meta: dict[str, str] = {}
        self.title = ""
        self._capture: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and "ld+json" in attributes.get("type", "").lower():
            self._capture, self._buffer = "json_ld", []
        elif tag == "title" and not self.title:
            self._capture, self._buffer = "title", []
        elif tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").lower()
            if key and "content" in attributes:
                self.meta.setdefault(key, attributes["content"])

    def handle_data(self, data: str) -> None:
        if self._capture:
            self._buffer.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._capture == "json_ld" and tag == "script":
            self.json_ld.append("".join(self._buffer))
            self._capture = None
        elif self._capture == "title" and tag == "title":
            self.title = " ".join("".join(self._buffer).split())
            self._capture = None


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "div", "br", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
              "section", "article", "header", "footer", "blockquote", "pre", "hr", "dl", "dt",
              "dd"}
    SKIP = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable plain text from an HTML fragment: paragraphs kept, lists bulleted, tags gone."""
    if "<" not in markup and "&lt;" in markup:      # HTML escaped once more inside JSON
        markup = html.unescape(markup)
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"•\s*\n+", "• ", text)
    return text.strip()


class _TooDeep(Exception):
    pass


def _load_json_ld(block: str) -> Any:
    """The block's data; None when it is not JSON; raises :class:`_TooDeep` when it is too
    large or nested too deeply to be a posting (``json`` would raise RecursionError)."""
    if len(block) > MAX_JSON_LD_CHARS:
        raise _TooDeep
    block = block.strip()
    block = re.sub(r"^\s*(<!--|<!\[CDATA\[)", "", block)
    block = re.sub(r"(-->|\]\]>)\s*$", "", block)
    if _nesting(block) > MAX_JSON_LD_DEPTH:
        raise _TooDeep
    try:
        return json.loads(block, strict=False)
    except ValueError:
        log.debug("unreadable JSON-LD block skipped")
        return None
    except RecursionError:
        raise _TooDeep from None


def _nesting(block: str) -> int:
    """The deepest bracket nesting, ignoring brackets inside strings (linear, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in block:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _is_job_posting(node: dict) -> bool:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == "JobPosting"
               for t in types)


def _walk(data: Any, index: dict[str, dict], found: list[dict]) -> None:
    if isinstance(data, list):
        for item in data:
            _walk(item, index, found)
    elif isinstance(data, dict):
        if isinstance(data.get("@id"), str):
            index.setdefault(data["@id"], data)
        if _is_job_posting(data):
            found.append(data)
        for key, value in data.items():
            if isinstance(value, (dict, list)) and key != "@context":
                _walk(value, index, found)


def find_job_postings(blocks: list[Any]) -> tuple[list[dict], dict[str, dict]]:
    """Every JobPosting node in the JSON-LD blocks (``@graph``, lists and nesting included),
    with an index of nodes by ``@id`` for resolving references."""
    index: dict[str, dict] = {}
    found: list[dict] = []
    for block in blocks:
        _walk(block, index, found)
    return found, index


def _resolve(value: Any, index: dict[str, dict]) -> Any:
    if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in index:
        return index[value["@id"]]
    return value


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = _first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or ""
    return " ".join(html.unescape(str(value or "")).split())


def company_name(value: Any, index: dict[str, dict] | None = None) -> str:
    value = _resolve(_first(value), index or {})
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("legalName"))
    return _text(value)


def _address_text(address: Any, index: dict[str, dict]) -> str:
    address = _resolve(_first(address), index)
    if isinstance(address, str):
        return _text(address)
    if not isinstance(address, dict):
        return ""
    parts: list[str] = []
    for key in ("addressLocality", "addressRegion", "addressCountry"):
        part = _text(address.get(key))
        if part and part not in parts:
            parts.append(part)
    return ", ".join(parts)


def location_text(value: Any, index: dict[str, dict] | None = None) -> str:
    """"Berlin, Germany" from a jobLocation (Place, list of Places, or text)."""
    index = index or {}
    places = value if isinstance(value, list) else [value]
    names: list[str] = []
    for place in places:
        place = _resolve(place, index)
        if isinstance(place, str):
            text = _text(place)
        elif isinstance(place, dict):
            text = _address_text(place.get("address"), index) or _text(place.get("name"))
        else:
            text = ""
        if text and text not in names:
            names.append(text)
    return "; ".join(names)


def _number(value: Any) -> str:
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        return _text(value)
    return f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"


def salary_text(value: Any) -> str:
    """"USD 120,000–150,000 per year" from a baseSalary (MonetaryAmount, number or text)."""
    value = _first(value)
    if value is None or value == "":
        return ""
    if not isinstance(value, dict):
        return _number(value) if isinstance(value, (int, float)) else _text(value)
    currency = _text(value.get("currency"))
    amount = value.get("value")
    unit = _text(value.get("unitText"))
    if isinstance(amount, dict):
        unit = _text(amount.get("unitText")) or unit
        if amount.get("minValue") is not None and amount.get("maxValue") is not None:
            low, high = _number(amount["minValue"]), _number(amount["maxValue"])
            figure = low if low == high else f"{low}–{high}"
        elif amount.get("value") is not None:
            figure = _number(amount["value"])
        else:
            figure = _number(amount.get("minValue") or amount.get("maxValue") or "")
    elif amount is not None:
        figure = _number(amount)
    else:
        figure = ""
    if not figure:
        return ""
    pieces = [currency, figure, _UNITS.get(unit.upper(), unit.lower())]
    return " ".join(p for p in pieces if p)


def _from_job_posting(node: dict, index: dict[str, dict]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": _text(node.get("title") or node.get("name")),
        "company": company_name(node.get("hiringOrganization"), index),
        "location": location_text(node.get("jobLocation"), index),
        "salary": salary_text(node.get("baseSalary") or node.get("estimatedSalary")),
        "description": html_to_text(str(_first(node.get("description")) or "")),
    }
    location_type = node.get("jobLocationType")
    location_types = location_type if isinstance(location_type, list) else [location_type]
    if any(isinstance(t, str) and t.upper() == "TELECOMMUTE" for t in location_types):
        values["remote"] = True
        if not values["location"]:
            requirement = node.get("applicantLocationRequirements")
            where = "; ".join(filter(None, (_text(_resolve(r, index)) for r in (
                requirement if isinstance(requirement, list) else [requirement]))))
            values["location"] = f"Remote ({where})" if where else "Remote"
    return values


_TITLE_PREFIXES = re.compile(r"^(job application for|job:|apply for|careers?:)\s+", re.I)


def _from_page_title(title: str, site_name: str) -> tuple[str, str]:
    """Split "Senior Engineer at Acme | Board" into ("Senior Engineer", "Acme")."""
    title = _TITLE_PREFIXES.sub("", title)
    for separator in (" | ", " – ", " — ", " - "):
        head, sep, tail = title.rpartition(separator)
        if sep and site_name and tail.strip().lower() == site_name.lower():
            title = head
            break
    match = re.match(r"^(.+?)\s+(?:at|@)\s+(.+)$", title)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return title.strip(), ""


def parse_posting(page: str, url: str = "") -> PostingDraft:
    """A draft job from a page's markup (no network)."""
    scanner = _PageScanner()
    scanner.feed(page)
    scanner.close()
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    base: dict[str, Any] = {"url": url, "source": host, "date_found": date.today().isoformat()}
    blocks, note = [], ""
    for block in scanner.json_ld:
        try:
            blocks.append(_load_json_ld(block))
        except _TooDeep:
            log.info("a JSON-LD block of %d characters was too large or deep to read", len(block))
            note = UNREADABLE_JSON_LD
    postings, index = find_job_postings(blocks)
    postings = [p for p in postings if p.get("title") or p.get("name")]
    if postings:
        return PostingDraft({**base, **_from_job_posting(postings[0], index)}, FOUND_IN_JSON_LD)
    meta = scanner.meta
    site_name = _text(meta.get("og:site_name"))
    description = html_to_text(meta.get("og:description") or meta.get("description") or "")
    if meta.get("og:title"):
        title, company = _from_page_title(_text(meta["og:title"]), site_name)
        return PostingDraft({**base, "title": title, "company": company or site_name,
                             "description": description}, FOUND_IN_OPENGRAPH, note)
    if scanner.title:
        title, company = _from_page_title(scanner.title, site_name)
        return PostingDraft({**base, "title": title, "company": company or site_name,
                             "description": description}, FOUND_IN_TITLE, note)
    return PostingDraft(base, FOUND_NOTHING, note)
