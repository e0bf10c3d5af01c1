"""The translated editions' catalogues (``locales/<code>/LC_MESSAGES/*.po``) against the English text.

The English text is extracted afresh (``tools/build_book.py --gettext``, a few seconds), so a
catalogue that was not refreshed after an English edit counts the new strings as
untranslated. For every edition of ``locales/languages.yml``:

- every catalogue belongs to a page of the book and says its language;
- every translated message keeps what a translation must not change: its inline maths, its
  code spans and its roles' targets (``{cite}``, ``{doc}``, ...), and it does not start like a
  list item (``0. 图 ...``: Sphinx re-parses a translated heading alone, reads a list and
  drops the translation; write ``0\\. 图 ...``);
- the share translated is printed at the end of the run (section "translations"); once the
  edition is declared ``complete`` in ``locales/languages.yml``, any untranslated or fuzzy
  message fails (pages listed under ``keep_english`` are not counted).
"""
from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = yaml.safe_load((LOCALES / "languages.yml").read_text(encoding="utf-8")) or {}
TEMPLATES = ROOT / "_build" / "gettext"  # where tools/build_book.py --gettext writes

# A translation that starts like a list item becomes a list when Sphinx re-parses it alone.
LIST_START = re.compile(r"^(\d+[.)]|[-*+])\s")
ROLE = re.compile(r"\{([\w:.-]+)\}`([^`]*)`")
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$]+)\$", re.S)
CODE = re.compile(r"`([^`]+)`")


def _role_targets(text: str) -> Counter:
    """``{role}`text <target>``` -> (role, target); a glossary term counts by its role alone,
    since a translated glossary may name its terms in the translation."""
    found = Counter()
    for role, body in ROLE.findall(text):
        m = re.search(r"<([^<>]+)>\s*$", body)
        found[(role, "" if role == "term" else (m.group(1) if m else body).strip())] += 1
    return found


def message_problems(msgid: str, msgstr: str) -> list[str]:
    """What a translation changed that it must keep, or wrote so that Sphinx drops it."""
    problems = []
    if LIST_START.match(msgstr):  # a heading's msgid may start so ("0. Graphs"), never its msgstr
        problems.append(f"starts like a list item ({msgstr[:12]!r}...), so Sphinx reads a list and drops "
                        f"it: escape it, e.g. '0\\. ' for '0. '")
    maths = [Counter((a or b).strip() for a, b in MATH.findall(t)) for t in (msgid, msgstr)]
    if maths[0] != maths[1]:
        problems.append(f"maths differ: missing {sorted(maths[0] - maths[1])}, added {sorted(maths[1] - maths[0])}")
    roles = [_role_targets(t) for t in (msgid, msgstr)]
    if roles[0] != roles[1]:
        problems.append(f"roles differ: missing {sorted(roles[0] - roles[1])}, added {sorted(roles[1] - roles[0])}")
    codes = [Counter(CODE.findall(MATH.sub("", ROLE.sub("", t)))) for t in (msgid, msgstr)]
    if codes[0] != codes[1]:
        problems.append(f"code spans differ: missing {sorted(codes[0] - codes[1])}, added {sorted(codes[1] - codes[0])}")
    return problems


@dataclass
class PageStatus:
    """One page's catalogue against the page's English text."""
    page: str
    total: int = 0
    translated: int = 0
    fuzzy: list = field(default_factory=list)         # msgids whose translation is marked fuzzy
    untranslated: list = field(default_factory=list)  # msgids with an empty translation
    missing: list = field(default_factory=list)       # msgids not yet in the catalogue
    problems: list = field(default_factory=list)      # "msgid: problem" of translated messages


def page_status(page: str, template: Catalog, catalogue: Catalog | None) -> PageStatus:
    status = PageStatus(page)
    for message in template:
        if not message.id:  # the header
            continue
        status.total += 1
        entry = catalogue.get(message.id) if catalogue is not None else None
        if entry is None:
            status.missing.append(message.id)
        elif not entry.string:
            status.untranslated.append(message.id)
        elif entry.fuzzy:
            status.fuzzy.append(message.id)
        else:
            status.translated += 1
            status.problems += [f"{message.id[:60]!r}: {p}" for p in message_problems(message.id, entry.string)]
    return status


def _read(path: Path) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f)


def edition_status(code: str, templates: Path) -> list[PageStatus]:
    """Every page's status in edition ``code``, from the templates in ``templates``."""
    po_dir = LOCALES / code / "LC_MESSAGES"
    statuses = []
    for pot in sorted(templates.rglob("*.pot")):
        page = pot.relative_to(templates).with_suffix("").as_posix()
        po = po_dir / f"{page}.po"
        statuses.append(page_status(page, _read(pot), _read(po) if po.is_file() else None))
    return statuses


def counted(code: str, statuses: list[PageStatus]) -> list[PageStatus]:
    keep = set(LANGUAGES.get(code, {}).get("keep_english") or [])
    return [s for s in statuses if s.page not in keep]


def incomplete(statuses: list[PageStatus]) -> list[str]:
    """What stands between an edition and a complete one: one line per page that lacks something."""
    lines = []
    for s in statuses:
        parts = [f"{len(x)} {name}" for x, name in [(s.untranslated, "untranslated"), (s.fuzzy, "fuzzy"),
                                                    (s.missing, "not in the catalogue (run `make translations`)")] if x]
        if parts:
            first = (s.untranslated + s.fuzzy + s.missing)[0]
            lines.append(f"{s.page}: {', '.join(parts)}; first: {first[:70]!r}")
    return lines


def summary(code: str, statuses: list[PageStatus]) -> list[str]:
    total = sum(s.total for s in statuses)
    done = sum(s.translated for s in statuses)
    fuzzy = sum(len(s.fuzzy) for s in statuses)
    missing = sum(len(s.missing) for s in statuses)
    entry = LANGUAGES.get(code, {})
    state = "declared complete" if entry.get("complete") else "in progress (not declared complete)"
    lines = [f"{code} ({entry.get('name', code)}): {done} of {total} strings translated "
             f"({100 * done / max(total, 1):.1f} %), {fuzzy} fuzzy, {missing} not yet in the catalogues; {state}"]
    lines += [f"  {s.page:42s} {s.translated:4d} / {s.total:4d}" for s in statuses if s.translated]
    return lines


# --- the logic above, on small catalogues -------------------------------------------------

@pytest.mark.parametrize("msgid, msgstr, expected", [
    ("0. Graphs and what GNNs do", "0. 图，以及 GNN 能做什么", "list item"),
    ("Degree $d_v$ of node $v$", "节点 $v$ 的度", "maths differ"),
    ("As {cite}`kipf2017` shows", "如 {cite}`hamilton2017` 所示", "roles differ"),
    ("call `fit` once", "调用一次 fit", "code spans differ"),
])
def test_message_problems_catch_what_a_translation_must_keep(msgid, msgstr, expected):
    assert any(expected in p for p in message_problems(msgid, msgstr)), message_problems(msgid, msgstr)


def test_message_problems_accept_a_faithful_translation():
    msgid = "See {doc}`notation`: the degree $d_v$ of $v$, computed by `degree`, and {term}`Embedding (嵌入)`."
    msgstr = "见{doc}`记号 <notation>`：$v$ 的度 $d_v$，由 `degree` 计算，以及{term}`嵌入 <嵌入>`。"
    assert message_problems(msgid, msgstr) == []
    assert message_problems("0. Graphs", "0\\. 图") == []


def test_page_status_counts_translated_fuzzy_untranslated_and_missing():
    template, catalogue = Catalog(), Catalog(locale="zh_CN")
    for msgid in ["Glossary", "Aggregation", "Decoder", "Encoder", "New sentence"]:
        template.add(msgid)
    catalogue.add("Glossary", "术语表")
    catalogue.add("Aggregation", "聚合", flags=["fuzzy"])
    catalogue.add("Decoder", "")
    catalogue.add("Encoder", "1. 编码器")  # translated, but would be dropped
    status = page_status("book/glossary", template, catalogue)
    assert (status.total, status.translated) == (5, 2)
    assert (status.fuzzy, status.untranslated, status.missing) == (["Aggregation"], ["Decoder"], ["New sentence"])
    assert len(status.problems) == 1 and "list item" in status.problems[0]
    lines = incomplete([status])
    assert len(lines) == 1 and "1 untranslated, 1 fuzzy, 1 not in the catalogue" in lines[0]
    assert incomplete([PageStatus("book/index", total=3, translated=3)]) == []


# --- the editions of locales/languages.yml ----------------------------------------------------

@pytest.fixture(scope="module")
def templates() -> Path:
    """The English text of the book as catalogue templates, extracted now."""
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--gettext"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, "extracting the English text failed:\n" + (run.stdout + run.stderr)[-3000:]
    return TEMPLATES


def test_languages_file_names_every_edition():
    assert LANGUAGES, "locales/languages.yml lists no edition"
    for code, entry in LANGUAGES.items():
        assert (LOCALES / code / "LC_MESSAGES").is_dir(), f"{code}: no locales/{code}/LC_MESSAGES/"
        assert entry.get("name") and isinstance(entry.get("complete"), bool), \
            f"{code}: needs a `name` and `complete: true|false`"


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_catalogue_belongs_to_a_page_and_says_its_language(code, templates):
    pages = {p.relative_to(templates).with_suffix("").as_posix() for p in templates.rglob("*.pot")}
    assert pages, f"no templates in {templates}"
    for po in sorted((LOCALES / code / "LC_MESSAGES").rglob("*.po")):
        page = po.relative_to(LOCALES / code / "LC_MESSAGES").with_suffix("").as_posix()
        assert page in pages, f"{po} belongs to no page of the book (a page renamed or removed?)"
        assert _read(po).locale == Locale.parse(code), f"{po}: its header says language {_read(po).locale}, not {code}"
    for page in LANGUAGES[code].get("keep_english") or []:
        assert page in pages, f"locales/languages.yml: {code} keeps {page!r} English, but the book has no such page"


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_translations_keep_maths_code_and_references(code, templates):
    problems = [f"{s.page}: {p}" for s in edition_status(code, templates) for p in s.problems]
    assert not problems, "translations that changed what they must keep:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_edition_is_complete_once_declared(code, templates, summary_lines):
    statuses = counted(code, edition_status(code, templates))
    summary_lines["translations"] += summary(code, statuses)
    if LANGUAGES[code].get("complete"):
        missing = incomplete(statuses)
        assert not missing, (f"{code} is declared complete in locales/languages.yml, but:\n" + "\n".join(missing))


@pytest.mark.skipif("zh_CN" not in LANGUAGES, reason="no Chinese edition")
def test_search_dictionary_keeps_every_glossary_term_whole():
    """Every Chinese term of the glossary that jieba alone would cut into pieces is in the
    Chinese edition's search dictionary, so searching the term finds it."""
    import jieba  # the Chinese edition's search splitter (dev extra); only this test needs it

    terms = set()
    for line in (ROOT / "book" / "glossary.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^[A-Z][^(]*\((.*)\)\s*$", line)  # a term line: "Computation graph (计算图)"
        if m:
            terms |= set(re.findall(r"[\u4e00-\u9fff]{2,}", m.group(1)))
    assert len(terms) >= 10, f"found only {sorted(terms)} in book/glossary.md"
    entry = LANGUAGES["zh_CN"]
    dictionary = LOCALES / "zh_CN" / entry["search_dict"]
    listed = {line.split()[0] for line in dictionary.read_text(encoding="utf-8").splitlines() if line.strip()}
    cut = {t for t in terms if list(jieba.cut(t)) != [t]}
    assert cut, "jieba keeps every glossary term whole: the dictionary would not be needed"
    assert cut <= listed, f"add to {dictionary.relative_to(ROOT)}: {sorted(cut - listed)}"
