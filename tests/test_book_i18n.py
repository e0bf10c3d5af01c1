"""tools/book_i18n.py, the Sphinx extension of the translated editions, on a two-page book of
its own (MyST markdown, built by Sphinx in a subprocess): display maths stays out of the
catalogues and renders in a translation, the table of contents' captions are translated,
and the language switch links each page to itself in the other editions."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import book_i18n  # noqa: E402  (tools/book_i18n.py)

FORMULA = r"\mathbf{h}_v = \frac{1}{|N(v)|} \sum_{u \in N(v)} \mathbf{h}_u"
PAGE = f"""\
# Aggregation

The mean of the neighbours' vectors:

$$
{FORMULA}
$$

Its degree is $d_v$.
"""
INDEX = """\
# Home

```{toctree}
:caption: Foundations

chapters/agg
```
"""


def _book(tmp_path: Path, with_extension: bool) -> Path:
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    (src / "index.md").write_text(INDEX, encoding="utf-8")
    (src / "chapters" / "agg.md").write_text(PAGE, encoding="utf-8")
    (src / "locales").mkdir()
    (src / "locales" / "languages.yml").write_text("zh_CN:\n  name: 简体中文\n  search_bar_text: 搜索\n  complete: false\n",
                                                   encoding="utf-8")
    (src / "conf.py").write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(ROOT / "tools")!r})
        extensions = ["myst_parser"{', "book_i18n"' if with_extension else ''}]
        myst_enable_extensions = ["dollarmath", "amsmath"]
        locale_dirs = ["locales"]
        gettext_compact = False
        html_theme = "sphinx_book_theme"
        """), encoding="utf-8")
    return src


def _sphinx(src: Path, out: Path, builder: str, *options: str) -> None:
    run = subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, "-q", "-W", "-E", *options, str(src), str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _msgids(pot: Path) -> list[str]:
    with open(pot, "rb") as f:
        return [m.id for m in read_po(f) if m.id]


def test_display_maths_stays_out_of_the_catalogues(tmp_path):
    without = _book(tmp_path / "plain", with_extension=False)
    _sphinx(without, tmp_path / "plain" / "pot", "gettext")
    assert any(FORMULA in m for m in _msgids(tmp_path / "plain" / "pot" / "chapters" / "agg.pot")), \
        "Sphinx alone extracts the formula (the premise of the transform)"
    src = _book(tmp_path / "ext", with_extension=True)
    _sphinx(src, tmp_path / "ext" / "pot", "gettext")
    ids = _msgids(tmp_path / "ext" / "pot" / "chapters" / "agg.pot")
    assert not any(FORMULA in m for m in ids), ids
    assert "The mean of the neighbours' vectors:" in ids and "Its degree is $d_v$." in ids


def _translate(src: Path, math_msgid: str) -> None:
    """Catalogues of the two pages; the formula's message (as Sphinx extracts it without the
    extension) gets a changed translation, as a translator's edit or a stale entry would."""
    translations = {"chapters/agg": {"Aggregation": "聚合", "The mean of the neighbours' vectors:": "邻居向量的均值：",
                                     "Its degree is $d_v$.": "它的度是 $d_v$。",
                                     math_msgid: math_msgid.replace(r"\sum", r"\textstyle\sum")},
                    "index": {"Home": "首页", "Foundations": "基础"}}
    for page, pairs in translations.items():
        catalog = Catalog(locale="zh_CN")
        for msgid, msgstr in pairs.items():
            catalog.add(msgid, msgstr)
        po = src / "locales" / "zh_CN" / "LC_MESSAGES" / f"{page}.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        with open(po, "wb") as f:
            write_po(f, catalog)


def test_a_translated_page_keeps_its_formula_and_translates_the_rest(tmp_path):
    plain = _book(tmp_path / "plain", with_extension=False)
    _sphinx(plain, tmp_path / "plain" / "pot", "gettext")
    math_msgid = next(m for m in _msgids(tmp_path / "plain" / "pot" / "chapters" / "agg.pot") if FORMULA in m)
    # Without the extension, a translated formula breaks: the page shows \[::\].
    _translate(plain, math_msgid)
    _sphinx(plain, tmp_path / "plain" / "html", "html", "-D", "language=zh_CN")
    assert r"\[::\]" in (tmp_path / "plain" / "html" / "chapters" / "agg.html").read_text(encoding="utf-8")

    src = _book(tmp_path / "ext", with_extension=True)
    _translate(src, math_msgid)
    out = tmp_path / "ext" / "html" / "zh_CN"
    _sphinx(src, out, "html", "-D", "language=zh_CN")
    html = (out / "chapters" / "agg.html").read_text(encoding="utf-8")
    assert "邻居向量的均值：" in html and "它的度是" in html and "<h1>聚合" in html
    assert r"\frac{1}{|N(v)|} \sum_" in html and r"\textstyle" not in html and r"\[::\]" not in html
    assert re.search(r'caption-text">基础<', html), "the toctree caption is not translated"
    assert 'placeholder="搜索"' in html
    # the language switch: the same page in English, one folder up
    assert re.search(r'<a class="btn btn-sm gnn-language-link" href="\.\./\.\./chapters/agg\.html" hreflang="en"', html)


@pytest.mark.parametrize("pagename, uri, language, expected", [
    ("chapters/00_graphs", "chapters/00_graphs.html", "en", {"zh_CN": "../zh_CN/chapters/00_graphs.html"}),
    ("chapters/00_graphs", "chapters/00_graphs.html", "zh_CN", {"en": "../../chapters/00_graphs.html"}),
    ("search", "search.html", "en", {"zh_CN": "zh_CN/search.html"}),
    ("search", "search.html", "zh_CN", {"en": "../search.html"}),
    ("search", "search.html", None, {"zh_CN": "zh_CN/search.html"}),  # Sphinx's language unset: English
])
def test_edition_links_are_relative_to_the_page(pagename, uri, language, expected):
    links = book_i18n.edition_links(pagename, uri, language, {"zh_CN": {"name": "简体中文"}})
    assert {link["code"]: link["href"] for link in links} == expected


def test_edition_links_between_two_translations():
    langs = {"zh_CN": {"name": "简体中文"}, "ja": {"name": "日本語"}}
    links = book_i18n.edition_links("book/index", "book/index.html", "ja", langs)
    assert [(link["code"], link["href"]) for link in links] == [("en", "../../book/index.html"),
                                                                ("zh_CN", "../../zh_CN/book/index.html")]


def test_an_edition_without_a_name_is_refused(tmp_path):
    (tmp_path / "locales").mkdir()
    (tmp_path / "locales" / "languages.yml").write_text("zh_CN:\n  complete: false\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs a `name`"):
        book_i18n.load_languages(tmp_path)
    assert book_i18n.load_languages(tmp_path / "nowhere") == {}
