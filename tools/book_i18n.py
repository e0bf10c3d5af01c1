"""Sphinx extension for the book's translated editions (Sphinx's gettext workflow).

The English book is the source. Each translation lives in ``locales/<code>/LC_MESSAGES/``
as one ``.po`` catalogue per page (``gettext_compact`` off), and ``locales/languages.yml``
lists the editions. ``tools/build_book.py --language zh_CN`` builds one into
``_build/html/zh_CN/``, next to the English ``_build/html/``; ``make translations``
refreshes the catalogues from the English text. ``book/contributing.md`` describes the
translator's workflow.

This extension does three things, in the English build and in every translated one:

1. **Display maths is not translatable.** A ``$$ ... $$`` (or ``\\begin{align}``) block is a
   ``math_block`` node, which Sphinx extracts into the catalogues like a paragraph; a
   translated one is re-parsed as text and the page shows ``\\[::\\]`` instead of the
   formula. A transform marks every ``math_block`` untranslatable before Sphinx's i18n
   transforms run, so display maths stays out of the catalogues and every edition renders
   the English source's formula. (Inline ``$...$`` stays inside its paragraph's message:
   translators keep it as it is.)

2. **A language switch on every page** leads to the same page in the other editions: a
   link in the article header (``templates/language-switch.html``, added before the
   theme's header buttons), relative, so it works from ``file://`` as from a server. The
   English pages link to ``<code>/<page>.html``, a translated page to ``../<page>.html``
   and to its sibling editions.

3. **The search bar speaks the edition's language** (``search_bar_text`` of
   ``languages.yml``); Chinese search itself needs ``jieba`` (``html_search_language: zh``,
   set by ``tools/build_book.py``), with the book's terms as a user dictionary so that
   ``邻域聚合`` is one searchable word.

Registered in ``_config.yml`` under ``sphinx: local_extensions: {book_i18n: tools/}``.
"""
from __future__ import annotations

import logging
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

SOURCE_LANGUAGE = "en"
SOURCE_NAME = "English"
LANGUAGES_FILE = Path("locales") / "languages.yml"  # relative to the book's source folder
TEMPLATES = Path(__file__).resolve().parent / "templates"
SWITCH_TEMPLATE = "language-switch.html"


def load_languages(srcdir: Path) -> dict[str, dict]:
    """The translated editions of ``locales/languages.yml``: ``{code: {name, ...}}``."""
    path = Path(srcdir) / LANGUAGES_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for code, entry in data.items():
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ValueError(f"{path}: edition {code!r} needs a `name` (what the language switch shows)")
    return data


class UntranslatableMath(SphinxTransform):
    """Mark display maths untranslatable: out of the catalogues, never replaced."""

    default_priority = 5  # before PreserveTranslatableMessages (10) and Locale (20)

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False


class TranslatedTocCaptions(SphinxTransform):
    """Translate the captions of the table of contents ("Foundations", ...).

    sphinx-external-toc inserts the root page's toctrees from ``_toc.yml`` after Sphinx's
    Locale transform has run, so their captions, which the catalogue extraction finds in the
    root page's catalogue (``book/index.po``), would stay English; this looks them up there.
    """

    default_priority = 101  # right after sphinx-external-toc's InsertToctrees (100)

    def apply(self, **kwargs) -> None:
        if not self.config.language or self.config.language == SOURCE_LANGUAGE:
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalog, found = init_locale(dirs, self.config.language, domain)
        if not found:
            return
        for toctree in self.document.findall(addnodes.toctree):
            caption = toctree.get("rawcaption")
            if caption and catalog.gettext(caption) != caption:
                toctree["caption"] = catalog.gettext(caption)


def edition_links(pagename: str, target_uri: str, language: str | None,
                  languages: dict[str, dict]) -> list[dict]:
    """The other editions of one page, as ``{code, name, href}`` with relative hrefs.

    The English book is the root folder and each translation a sub-folder named by its code:

    >>> langs = {"zh_CN": {"name": "简体中文"}}
    >>> edition_links("chapters/00_graphs", "chapters/00_graphs.html", "en", langs)
    [{'code': 'zh_CN', 'name': '简体中文', 'href': '../zh_CN/chapters/00_graphs.html'}]
    >>> edition_links("search", "search.html", "zh_CN", langs)
    [{'code': 'en', 'name': 'English', 'href': '../search.html'}]
    """
    here = language if language in languages else SOURCE_LANGUAGE
    up = "../" * pagename.count("/")                   # from the page to its edition's root
    root = up if here == SOURCE_LANGUAGE else up + "../"  # ... to the English root
    editions = [(SOURCE_LANGUAGE, SOURCE_NAME, "")] + [(c, e["name"], f"{c}/") for c, e in languages.items()]
    return [{"code": code, "name": name, "href": f"{root}{folder}{target_uri}"}
            for code, name, folder in editions if code != here]


def _config_inited(app: Sphinx, config) -> None:
    if str(config.html_search_language or "").startswith("zh"):
        try:
            import jieba  # optional: Sphinx's Chinese search uses it when installed (dev extra)
        except ImportError:
            pass
        else:
            jieba.setLogLevel(logging.WARNING)  # no dictionary-loading chatter in the build log
    app.gnn_languages = load_languages(Path(app.srcdir))  # type: ignore[attr-defined]
    if not app.gnn_languages:
        return
    config.templates_path = list(config.templates_path) + [str(TEMPLATES)]
    # The switch goes before the theme's own header buttons (sphinx-book-theme's default).
    options = dict(config.html_theme_options or {})
    end = options.get("article_header_end", ["article-header-buttons.html"])
    end = [s.strip() for s in end.split(",")] if isinstance(end, str) else list(end)
    if SWITCH_TEMPLATE not in end:
        options["article_header_end"] = [SWITCH_TEMPLATE] + end
    config.html_theme_options = options


def _page_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    languages = app.gnn_languages  # type: ignore[attr-defined]
    if not languages or app.builder.format != "html":
        return
    language = app.config.language
    context["gnn_editions"] = edition_links(pagename, app.builder.get_target_uri(pagename), language, languages)
    context["gnn_language"] = language if language in languages else SOURCE_LANGUAGE


def _search_bar_text(app: Sphinx, pagename, templatename, context, doctree) -> None:
    text = app.gnn_languages.get(app.config.language, {}).get("search_bar_text")  # type: ignore[attr-defined]
    if text:
        context["theme_search_bar_text"] = text


def setup(app: Sphinx) -> dict:
    app.add_transform(UntranslatableMath)
    app.add_transform(TranslatedTocCaptions)
    app.connect("config-inited", _config_inited)
    # before the theme (500) renders the header's templates and drops the empty ones
    app.connect("html-page-context", _page_context, priority=400)
    # after sphinx-book-theme (500), which sets its own when _config.yml sets none
    app.connect("html-page-context", _search_bar_text, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
