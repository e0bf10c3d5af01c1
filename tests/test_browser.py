"""The built book as a reader gets it: every page opened in a real (headless) browser.

Needs the HTML book in ``_build/html`` (``make test`` builds it first; on its own:
``python tools/build_book.py --no-execute``) and Debian's Chromium (``apt-get install
chromium``; ``.ci/run`` installs it when missing). Playwright drives that system browser; it
never downloads one of its own. The book is served from a thread of this process on a free
port of 127.0.0.1, and every request to another host is blocked and reported: the book must
read correctly offline, maths included (MathJax is served from the book, see
``tools/offline_mathjax.py``).

Per page: no console errors, no failed or external requests, every equation typeset by
MathJax, every image loaded, every internal link (and its #anchor) resolves, the Colab and
Binder buttons of a chapter open that chapter's notebook in the book's repository, no stderr
or progress-bar output in the HTML. The search page finds each chapter by a word of its
title. A full-page screenshot of each page lands in ``_build/screenshots/`` for review.

Every translated edition of ``locales/languages.yml`` (built into ``_build/html/<code>/`` by
``tools/build_book.py --language <code>``) is opened page by page in the same way (its
screenshots in ``_build/screenshots/<code>/``), and the language switch of every page, in
every edition, must lead to the same page in the other editions. A Chinese search finds a
page by a translated title and by a term of the book's jieba dictionary.

    pytest -m browser tests/test_browser.py        # GNNCOURSE_BOOK_HTML=<dir> for another build
"""
from __future__ import annotations

import functools
import json
import http.server
import os
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import jieba
import pytest
import yaml
from babel.messages.pofile import read_po


pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("GNNCOURSE_BOOK_HTML", ROOT / "_build" / "html"))
SCREENSHOTS = HTML.parent / "screenshots"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
LANGUAGES = yaml.safe_load((ROOT / "locales" / "languages.yml").read_text(encoding="utf-8")) or {}


@dataclass(frozen=True)
class Edition:
    """The English book (the root of the build) or a translation in its sub-folder."""
    code: str     # "en", or a code of locales/languages.yml
    prefix: str   # its folder inside the English book: "" or "zh_CN/"

    @property
    def html(self) -> Path:
        return HTML / self.prefix if self.prefix else HTML

    @property
    def screenshots(self) -> Path:
        return SCREENSHOTS / self.prefix if self.prefix else SCREENSHOTS


EDITIONS = [Edition("en", "")] + [Edition(code, f"{code}/") for code in LANGUAGES]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Text that means a formula reached the reader untypeset (code blocks are not searched); a lone
# `$` is a formula the markdown parser did not pair (`$$` inside a paragraph, for one).
RAW_MATH = re.compile(r"\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\frac\{|\\mathbf\{|\\sum_")
# A page that only redirects elsewhere (Jupyter Book writes the root index.html so).
REDIRECT = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.I)
# A tqdm bar or other stderr that should have stayed in Jupyter.
PROGRESS = re.compile(r"\d+%\|[^|\n]*\||\d+(\.\d+)?(it|s)/(s|it)\]")


def _chromium() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail("Chromium is not installed: `apt-get install chromium` (Debian's package; "
                    ".ci/run installs it when missing). Playwright uses it; it downloads no browser.")
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def server():
    """The built book, every edition, served on a free port of 127.0.0.1 from a thread of
    this process."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"no built book in {HTML}: build it first with `make test` or "
                    f"`python tools/build_book.py --no-execute`")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is missing: `make install` (pip install -e '.[dev]') installs it")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module", params=EDITIONS, ids=[e.code for e in EDITIONS])
def edition(request) -> Edition:
    """Each edition in turn: the English book, then every translation."""
    e = request.param
    if not (e.html / "searchindex.js").is_file():
        pytest.fail(f"no built {e.code} edition in {e.html}: build it first with `make test` or "
                    f"`python tools/build_book.py --language {e.code}`")
    return e


def _pages(html: Path = HTML) -> list[str]:
    """Every HTML page of the current build of one edition, relative to its root: the
    documents Sphinx indexed for search, its own pages (root redirect, index, search). Pages
    left in ``_build`` by an earlier build whose sources are gone or now excluded are not the
    book, so they are not visited."""
    index = (html / "searchindex.js").read_text(encoding="utf-8")
    docnames = json.loads(index[index.index("(") + 1:index.rindex(")")])["docnames"]
    pages = {f"{d}.html" for d in docnames} | {"index.html", "genindex.html", "search.html"}
    return sorted(p for p in pages if (html / p).is_file())


@dataclass
class Visit:
    """What one page showed the browser."""
    page: str
    console_errors: list = field(default_factory=list)
    bad_requests: list = field(default_factory=list)   # failed, >= 400, or to another host
    math_total: int = 0
    math_unrendered: list = field(default_factory=list)
    raw_math_text: list = field(default_factory=list)
    images_total: int = 0
    broken_images: list = field(default_factory=list)
    links: set = field(default_factory=set)              # absolute URLs on our server
    external_links: list = field(default_factory=list)
    stderr_outputs: list = field(default_factory=list)
    switch: dict = field(default_factory=dict)           # language switch: {code: absolute URL}
    lang: str = ""                                        # the page's <html lang>
    screenshot: Path | None = None


_PAGE_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  const imgs = [...document.querySelectorAll('img')];
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const maths = [...document.querySelectorAll('.math, .math-display, span.math')];
  const unrendered = maths.filter(m => !m.querySelector('mjx-container') || m.querySelector('mjx-merror'))
                          .map(m => m.textContent.trim().slice(0, 80));
  const article = document.querySelector('article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(e => e.remove());
  const text = copy.textContent;
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'));
  const svgs = [...document.querySelectorAll('.cell_output svg, figure svg')]
                 .filter(s => !s.closest('mjx-container'));
  const brokenSvgs = svgs.filter(s => { const r = s.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); })
                         .map(s => 'inline <svg> of size 0');
  const stderr = [...document.querySelectorAll('.output.stderr, .stderr, .output.traceback')]
                   .map(e => e.textContent.trim().slice(0, 80));
  document.querySelectorAll('.cell_output').forEach(o => {
    const t = o.textContent; if (/\d+%\|[^|\n]*\|/.test(t) || /\d+(\.\d+)?(it|s)\/(s|it)\]/.test(t)) stderr.push(t.trim().slice(0, 80));
  });
  return {
    mathTotal: maths.length, unrendered, text,
    imagesTotal: imgs.length + svgs.length, broken: broken.concat(brokenSvgs),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    stderr,
    switch: [...document.querySelectorAll('.gnn-language-switch a[hreflang]')].map(a => [a.hreflang, a.href]),
    lang: document.documentElement.lang,
  };
}
"""


def _listen(page, v: Visit, host: str) -> None:
    """Record on ``v`` what goes wrong while ``page`` loads; block requests to other hosts."""
    def route(r):
        url = r.request.url
        if urllib.parse.urlsplit(url).netloc == host or url.startswith(("data:", "blob:")):
            r.continue_()
        else:  # offline: nothing may leave the machine
            v.bad_requests.append(f"external request {url}")
            r.abort()

    def console(msg):
        if msg.type == "error":
            v.console_errors.append(msg.text)

    def failed(request):
        if urllib.parse.urlsplit(request.url).netloc == host:
            v.bad_requests.append(f"failed {request.url} ({request.failure})")

    def response(resp):
        if resp.status >= 400:
            v.bad_requests.append(f"HTTP {resp.status} {resp.url}")

    page.route("**/*", route)
    page.on("console", console)
    page.on("pageerror", lambda err: v.console_errors.append(f"uncaught: {err}"))
    page.on("requestfailed", failed)
    page.on("response", response)


@pytest.fixture(scope="module")
def visits(edition, server, browser) -> dict[str, Visit]:
    """Open every page of one edition once; the tests below read what each page showed."""
    pages = _pages(edition.html)
    assert pages, f"{edition.html} holds no HTML pages"
    shots = edition.screenshots
    for old in shots.glob("*.png"):  # this edition's screenshots of an earlier run
        old.unlink()
    shots.mkdir(parents=True, exist_ok=True)
    host = urllib.parse.urlsplit(server).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)  # a loaded 2-core CI machine can be slow
    result: dict[str, Visit] = {}
    start = time.perf_counter()
    for rel in pages:
        v = result[rel] = Visit(rel)
        url = server + edition.prefix + rel
        refresh = REDIRECT.search((edition.html / rel).read_text(encoding="utf-8"))
        if refresh:  # e.g. the root index.html: its target must exist; the target gets checked
            v.links.add(urllib.parse.urljoin(url, refresh.group(1)))
            continue
        page = context.new_page()

        _listen(page, v, host)
        page.goto(url, wait_until="load")
        info = page.evaluate(_PAGE_JS)
        v.math_total, v.math_unrendered = info["mathTotal"], info["unrendered"]
        v.raw_math_text = sorted(set(RAW_MATH.findall(info["text"])))
        v.images_total, v.broken_images = info["imagesTotal"], info["broken"]
        v.stderr_outputs = info["stderr"]
        v.switch, v.lang = {code.replace("-", "_"): href for code, href in info["switch"]}, info["lang"]
        for url in info["links"]:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc == host:
                v.links.add(url)
            elif parts.scheme in ("http", "https"):
                v.external_links.append(url)
        v.screenshot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(v.screenshot), full_page=True)
        page.close()
    context.close()
    print(f"\nbrowser: {len(pages)} pages of the {edition.code} edition opened in "
          f"{time.perf_counter() - start:.1f} s; screenshots in {shots}")
    return result


def _report(problems: dict[str, list]) -> str:
    return "\n".join(f"{page}: {p}" for page, ps in problems.items() for p in ps)


def test_every_page_was_opened(edition, visits):
    assert set(visits) == set(_pages(edition.html))
    assert any(p.startswith("chapters/") for p in visits), "the book has no chapter pages"
    shown = [v for v in visits.values() if v.screenshot]
    assert len(shown) >= len(visits) - 1 and all(v.screenshot.stat().st_size > 0 for v in shown)


def test_no_console_errors(visits):
    problems = {p: v.console_errors for p, v in visits.items() if v.console_errors}
    assert not problems, "console errors:\n" + _report(problems)


def test_no_failed_or_external_requests(visits):
    problems = {p: v.bad_requests for p, v in visits.items() if v.bad_requests}
    assert not problems, "requests that failed or left the machine:\n" + _report(problems)


def test_every_equation_is_rendered_by_mathjax(visits):
    assert sum(v.math_total for v in visits.values()) > 0, "no equation found in the whole book"
    problems = {p: [f"not typeset: {m!r}" for m in v.math_unrendered] + [f"raw TeX in text: {t!r}" for t in v.raw_math_text]
                for p, v in visits.items() if v.math_unrendered or v.raw_math_text}
    assert not problems, "equations MathJax did not render:\n" + _report(problems)


def test_every_image_loaded(visits):
    problems = {p: [f"image not loaded: {src}" for src in v.broken_images] for p, v in visits.items() if v.broken_images}
    assert not problems, _report(problems)
    chapters = [v for p, v in visits.items() if p.startswith("chapters/")]
    assert any(v.images_total for v in chapters), "no chapter shows a figure"


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, val in attrs:
            if k in ("id", "name") and val:
                self.ids.add(val)


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, frozenset]:
    """HTTP status of a URL on the local server, and the ids its HTML defines."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        return err.code, frozenset()
    ids = _Ids()
    if url.split("?")[0].endswith((".html", "/")):
        ids.feed(body.decode("utf-8", errors="replace"))
    return status, frozenset(ids.ids)


def test_every_internal_link_resolves(visits):
    problems: dict[str, list] = {}
    checked = 0
    for p, v in visits.items():
        for url in sorted(v.links):
            base, _, anchor = url.partition("#")
            status, ids = _fetch(base)
            checked += 1
            if status != 200:
                problems.setdefault(p, []).append(f"HTTP {status} for {url}")
            elif anchor and base.endswith(".html") and urllib.parse.unquote(anchor) not in ids:
                problems.setdefault(p, []).append(f"no #{anchor} in {base}")
    assert checked > 0
    assert not problems, "broken internal links:\n" + _report(problems)


def test_launch_buttons_open_the_chapter_notebook(visits):
    repo = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"].get("branch", "main")
    org_repo = urllib.parse.urlsplit(repo).path.strip("/")
    launch = CONFIG["launch_buttons"]
    chapters = [p for p in visits if p.startswith("chapters/")]
    assert chapters
    problems: dict[str, list] = {}
    for p in chapters:
        nb = f"chapters/{Path(p).stem}.ipynb"
        assert (ROOT / nb).is_file(), f"{p} has no notebook {nb} in the repository"
        expected = {
            "Colab": f"{launch['colab_url'].rstrip('/')}/github/{org_repo}/blob/{branch}/{nb}",
            "Binder": f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{org_repo}/{branch}?urlpath=tree/{nb}",
        }
        for name, url in expected.items():
            host = urllib.parse.urlsplit(url).netloc
            found = [u for u in visits[p].external_links if urllib.parse.urlsplit(u).netloc == host]
            if found != [url]:
                problems.setdefault(p, []).append(f"{name} button: expected {url}, found {found}")
        if repo not in visits[p].external_links:
            problems.setdefault(p, []).append(f"no repository button to {repo}")
    assert not problems, _report(problems)


def test_no_stderr_or_progress_bars_in_the_html(visits):
    problems = {p: [f"stderr/progress output: {t!r}" for t in v.stderr_outputs] for p, v in visits.items() if v.stderr_outputs}
    assert not problems, "output that belongs in Jupyter only:\n" + _report(problems)


def test_built_pages_load_mathjax_from_the_book_only(edition):
    scripts = re.compile(r"<script[^>]*\ssrc=\"([^\"]*)\"")
    mathjax_pages = 0
    for page in _pages(edition.html):
        for src in scripts.findall((edition.html / page).read_text(encoding="utf-8")):
            if "mathjax" in src.lower():
                mathjax_pages += 1
                assert "://" not in src and not src.startswith("//"), f"{page} loads MathJax from {src}"
                target = (edition.html / page).parent / src.split("?")[0]
                assert target.resolve().is_file(), f"{page} loads MathJax from {src}, which the build lacks"
    assert mathjax_pages > 0, "no page loads MathJax"


CJK = re.compile(r"[\u4e00-\u9fff]")


def _title_word(page_html: Path) -> str:
    """The longest word of a chapter's title, to search for: a Latin word of 4 letters or
    more, or a Chinese word of 2 characters or more as jieba (the search's own splitter of
    Chinese) cuts it."""
    m = re.search(r"<h1[^>]*>(.*?)</h1>", page_html.read_text(encoding="utf-8"), re.S)
    title = re.sub(r"<[^>]+>|&\w+;", " ", m.group(1)) if m else ""
    words = re.findall(r"[A-Za-z]{4,}", title)
    if CJK.search(title):
        words += [w for w in jieba.cut(title) if len(w) >= 2 and all(CJK.match(c) for c in w)]
    assert words, f"{page_html} has no title word (4+ letters, 2+ Chinese characters) to search for"
    return max(words, key=len)


def _search(context, server: str, edition: Edition, query: str) -> list[str]:
    """The pages (paths relative to the edition) that the edition's search page lists."""
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    page.goto(f"{server}{edition.prefix}search.html?q={urllib.parse.quote(query)}")
    # the summary is written when the search has finished, in the edition's language
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && s.textContent.trim().length > 0; }")
    hits = page.eval_on_selector_all("#search-results li a", "as => as.map(a => a.href)")
    page.close()
    paths = [urllib.parse.unquote(urllib.parse.urlsplit(h).path).lstrip("/") for h in hits]
    return [p.removeprefix(edition.prefix) for p in paths]


def test_search_finds_every_chapter_by_its_title(edition, server, browser, visits):
    chapters = [p for p in visits if p.startswith("chapters/")]
    context = browser.new_context()
    context.set_default_timeout(90_000)
    problems = []
    for p in chapters:
        word = _title_word(edition.html / p)
        hits = _search(context, server, edition, word)
        if p not in hits:
            problems.append(f"searching {word!r} does not list {p} (results: {hits[:5]})")
    context.close()
    assert not problems, "\n".join(problems)


def test_language_switch_leads_to_the_same_page_in_every_other_edition(edition, server, visits):
    """Every page but a redirect links to itself in each other edition, and that page exists."""
    others = {e.code: e for e in EDITIONS if e != edition}
    problems: dict[str, list] = {}
    for p, v in visits.items():
        if v.screenshot is None:  # a redirect page, no switch
            continue
        expected = {code: server + e.prefix + p for code, e in others.items()}
        if v.switch != expected:
            problems.setdefault(p, []).append(f"switch links {v.switch}, expected {expected}")
        for url in expected.values():
            if _fetch(url)[0] != 200:
                problems.setdefault(p, []).append(f"HTTP {_fetch(url)[0]} for {url}")
        lang = edition.code.replace("_", "-")
        if v.lang != lang:
            problems.setdefault(p, []).append(f"<html lang={v.lang!r}>, expected {lang!r}")
    assert not problems, "language switch:\n" + _report(problems)


@pytest.mark.parametrize("start", [e for e in EDITIONS if e.code != "en"], ids=lambda e: e.code)
def test_clicking_the_language_switch_lands_on_the_counterpart(server, browser, start):
    """A reader on a chapter of a translation clicks the switch to English and lands on the
    same chapter there, then clicks back; from the server, and from the files themselves
    (file://, the links are relative). Screenshot: language-switch__<code>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    blocked: list = []
    page, errors = _offline_page(context, server, blocked)
    files = context.new_page()  # no request filter: a file:// page loads file:// assets
    rel = "chapters/00_graphs.html"
    landed = {}
    for tab, root in [(page, server), (files, HTML.resolve().as_uri() + "/")]:
        for prefix, target in [(start.prefix, "en"), ("", start.code)]:
            tab.goto(root + prefix + rel, wait_until="load")
            with tab.expect_navigation(wait_until="load"):
                tab.locator(f'.gnn-language-switch a[hreflang="{target.replace("_", "-")}"]').click()
            landed.setdefault(root, []).append(tab.url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"language-switch__{start.code}.png"))
    context.close()
    assert landed == {root: [root + rel, root + start.prefix + rel] for root in landed}, landed
    assert not errors and not blocked, (errors, blocked)


@pytest.mark.skipif("zh_CN" not in LANGUAGES, reason="no Chinese edition in locales/languages.yml")
def test_chinese_search_finds_pages_by_chinese_words(server, browser):
    """The Chinese edition's search splits Chinese with jieba: the glossary's translated title
    (from its catalogue) finds the glossary, and so does a term that jieba alone would cut in
    two (邻域聚合) but the book's dictionary (locales/zh_CN/search_terms.txt) keeps whole."""
    zh = next(e for e in EDITIONS if e.code == "zh_CN")
    with open(ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "book" / "glossary.po", "rb") as f:
        title = read_po(f).get("Glossary")
    assert title is not None and title.string and CJK.search(title.string), \
        "the glossary's title is not translated in locales/zh_CN/LC_MESSAGES/book/glossary.po"
    context = browser.new_context()
    context.set_default_timeout(90_000)
    found = {q: _search(context, server, zh, q) for q in (title.string, "邻域聚合")}
    context.close()
    assert all("book/glossary.html" in hits for hits in found.values()), found


# --- Self-check quizzes (tools/quiz.py, _static/quiz.js) and interactive figures
# (gnncourse.interactive, BokehJS served by tools/book_html.py), driven like a reader would.

def _quiz_pages(root: Path = HTML) -> list[str]:
    """The built pages of one edition that hold a self-check quiz."""
    return [p for p in _pages(root) if 'class="gnn-quiz' in (root / p).read_text(encoding="utf-8")]


def _quiz_verdicts(code: str) -> tuple[str, str]:
    """What a right and a wrong answer say first in edition ``code`` (tools/quiz.py's
    ``quiz_labels``, which an edition sets in its ``config:`` of locales/languages.yml)."""
    labels = (LANGUAGES.get(code, {}).get("config") or {}).get("quiz_labels") or {}
    return labels.get("right", "Right."), labels.get("wrong", "Not quite.")


def _offline_page(context, server: str, blocked: list):
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith((server, "data:", "blob:"))
               else (blocked.append(r.request.url), r.abort()))
    errors: list = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return page, errors


def test_every_quiz_answers_right_and_wrong_with_feedback(edition, server, browser):
    """Per chapter quiz, in every edition: 3-6 questions rendered; the explanations hidden
    until an answer is picked; the right option of question 1 (clicked) says "Right." (in
    the edition's words) and its own explanation, a wrong option of question 2 (chosen with
    the keyboard) says "Not quite." and why it is wrong. Screenshots: quiz__<chapter>.png."""
    pages = _quiz_pages(edition.html)
    right, wrong = _quiz_verdicts(edition.code)
    expected = {f"chapters/{s}.html" for s in ("00_graphs", "01_node_embeddings", "02_aggregation", "03_training",
                                                 "04_inductive", "05_beyond_mean", "07_xgnn", "A1_scaling_out",
                                                 "A3_xgnn_study")}
    assert expected <= set(pages), f"chapters without a quiz: {sorted(expected - set(pages))}"
    edition.screenshots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    problems, blocked = [], []
    for rel in pages:
        page, errors = _offline_page(context, server, blocked)
        page.goto(server + edition.prefix + rel, wait_until="load")
        page.wait_for_selector(".gnn-quiz.gnn-quiz-ready")
        shown = page.locator(".gnn-quiz-question")
        if not 3 <= shown.count() <= 6:
            problems.append(f"{rel}: {shown.count()} questions shown, expected 3 to 6")
        if page.locator(".gnn-quiz-why").first.is_visible():
            problems.append(f"{rel}: an explanation is visible before any answer")
        for q, kind, verdict in [(shown.nth(0), "right", right), (shown.nth(1), "wrong", wrong)]:
            option = q.locator(f".gnn-quiz-option.gnn-quiz-{kind}").first
            why = " ".join(option.locator(".gnn-quiz-why").evaluate("e => e.textContent").split())
            if kind == "right":
                q.scroll_into_view_if_needed()
                option.click()
            else:  # the keyboard works too
                option.focus()
                page.keyboard.press("Enter")
            feedback = q.locator(".gnn-quiz-feedback")
            text = " ".join(feedback.evaluate("e => e.textContent").split())
            if not (feedback.is_visible() and text.startswith(verdict) and why and text.endswith(why)):
                problems.append(f"{rel}: a {kind} answer shows {text!r}; expected {verdict!r} then {why!r}")
            if f"gnn-quiz-feedback-{kind}" not in (feedback.get_attribute("class") or ""):
                problems.append(f"{rel}: the feedback to a {kind} answer is not marked {kind}")
        number = " ".join(shown.nth(0).locator(".gnn-quiz-number").text_content().split())
        if not any(ch.isdigit() for ch in number) or "{" in number:
            problems.append(f"{rel}: question 1 is numbered {number!r}")
        shown.nth(0).screenshot(path=str(edition.screenshots / f"quiz__{Path(rel).stem}.png"))
        problems += [f"{rel}: console error {e}" for e in errors]
        page.close()
    context.close()
    problems += [f"external request {u}" for u in blocked]
    assert not problems, "\n".join(problems)


_FIGURE_STATE_JS = r"""
(i) => {
  const doc = Bokeh.documents[i];
  const get = (name) => doc.get_model_by_name(name);
  const data = ['nodes', 'edges'].map(get).filter(Boolean).map(s => JSON.stringify(s.data));
  const sliders = ['p', 'q', 'K', 'threshold'].map(get).filter(Boolean).map(s => [s.name, s.value, s.title]);
  return {info: get('info') ? get('info').text : null, data, sliders};
}
"""


def _figures_ready(page, count: int) -> None:
    """Wait until BokehJS has built ``count`` documents and drawn their canvases."""
    page.wait_for_function(f"() => window.Bokeh && Bokeh.documents.length >= {count}")
    page.locator(".gnn-interactive canvas").first.wait_for()
    page.wait_for_timeout(300)


def _drive_sliders(page, figure_index: int, shot_prefix: str) -> list:
    """Move every slider of one figure with the keyboard; return what did not change."""
    problems = []
    box = page.locator(".gnn-interactive").nth(figure_index)
    box.scroll_into_view_if_needed()
    handles = box.locator(".noUi-handle")
    if handles.count() == 0:
        return [f"figure {figure_index}: no slider found"]
    box.screenshot(path=str(SCREENSHOTS / f"{shot_prefix}-before.png"))
    for h in range(handles.count()):
        before, image = page.evaluate(_FIGURE_STATE_JS, figure_index), box.screenshot()
        handles.nth(h).focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        after = page.evaluate(_FIGURE_STATE_JS, figure_index)
        if after["sliders"] == before["sliders"]:      # at the right end already: go left
            page.keyboard.press("ArrowLeft")
            page.wait_for_timeout(200)
            after = page.evaluate(_FIGURE_STATE_JS, figure_index)
        page.wait_for_timeout(300)
        moved = [a for a, b in zip(after["sliders"], before["sliders"]) if a != b]
        if len(moved) != 1:
            problems.append(f"figure {figure_index}, slider {h}: the keyboard moved {moved}")
            continue
        name = moved[0][0]
        if after["info"] == before["info"]:
            problems.append(f"figure {figure_index}, slider {name!r}: the text stayed {before['info']!r}")
        if after["data"] == before["data"]:
            problems.append(f"figure {figure_index}, slider {name!r}: the drawn data did not change")
        if box.screenshot() == image:
            problems.append(f"figure {figure_index}, slider {name!r}: the picture did not change")
        box.screenshot(path=str(SCREENSHOTS / f"{shot_prefix}-{name}-moved.png"))
    return problems


def test_interactive_figures_follow_their_sliders(server, browser):
    """The chapters' interactive figures (node2vec p and q; the receptive field's K; an
    explanation's threshold): BokehJS
    comes from the book, and moving each slider with the keyboard changes the figure's text,
    its data and its picture. Screenshots: figure__<chapter>-<n>-*.png."""
    pages = [p for p in _pages() if p.startswith("chapters/")
             and 'class="gnn-interactive"' in (HTML / p).read_text(encoding="utf-8")]
    assert {"chapters/01_node_embeddings.html", "chapters/02_aggregation.html",
            "chapters/06_explain_instance.html"} <= set(pages), pages
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    problems, blocked = [], []
    for rel in pages:
        page, errors = _offline_page(context, server, blocked)
        page.goto(server + rel, wait_until="load")
        count = page.locator(".gnn-interactive").count()
        _figures_ready(page, count)
        for i in range(count):
            problems += [f"{rel}: {p}" for p in _drive_sliders(page, i, f"figure__{Path(rel).stem}-{i}")]
        problems += [f"{rel}: console error {e}" for e in errors]
        page.close()
    context.close()
    problems += [f"external request {u}" for u in blocked]
    assert not problems, "\n".join(problems)
