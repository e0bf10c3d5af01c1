"""Sphinx extension for the HTML book: maths offline, and pages that load without errors.

1. MathJax 3 is served from the built book instead of a CDN. A reader in a classroom without internet, and the browser test (which runs offline), must
still see rendered equations. `_config.yml` points Sphinx's ``mathjax_path`` at
``mathjax/tex-mml-chtml.js`` (relative, so it resolves to ``_static/mathjax/...``), and this
extension copies MathJax's browser files there when the HTML build finishes.

MathJax comes from PyPI: ``django-static-mathjax`` ships MathJax's own ``es5`` build files
under the top-level package ``mathjax`` and depends on nothing (Django is not needed). It is
pinned in the ``dev`` extra of pyproject.toml, so ``make install`` provides it. Nothing is
committed to the repository.

2. Each inline script is written once per page. Sphinx 7.4 writes an inline script twice
   when an extension adds it after the builder started (``app.add_js_file(None, body=...)``
   lands in the builder as ``None`` and again from the registry as ``''``); sphinx-thebe does
   so, and the second ``const THEBE_JS_URL`` is a SyntaxError in every page's console.

3. BokehJS is served from the built book for the interactive figures
   (``gnncourse.interactive``): the notebooks store each figure as a ``div`` and the script
   that fills it, wrapped in ``<div class="gnn-interactive">``; this extension copies
   BokehJS from the installed ``bokeh`` package (the same version that wrote the figures)
   into ``_static/bokeh`` and adds it only to the pages that hold such a figure, so no page
   inlines the 1.6 MB library and the other pages do not load it.

Registered in `_config.yml` under ``sphinx: local_extensions: {book_html: tools/}``;
``tests/test_browser.py`` checks both in Chromium.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import bokeh
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# What a page needs: the combined TeX+MathML→CommonHTML component (Sphinx's default), the
# TeX extensions it loads on demand (\boldsymbol, \cancel, ...), the CommonHTML fonts, and the
# menu's accessibility parts (a11y explorer, speech rule engine) that load when a reader
# turns them on. The other combined builds (svg, full, speech) are left out: ~10 of 24 MB.
FILES = ["tex-mml-chtml.js", "tex-chtml.js", "core.js", "loader.js", "startup.js"]
FOLDERS = ["input", "output/chtml", "ui", "a11y", "adaptors", "sre"]
TARGET = "mathjax"  # inside the built _static folder


# BokehJS: the core library and the widgets (sliders, text); the figures need nothing else.
BOKEH_FILES = ["bokeh.min.js", "bokeh-widgets.min.js"]
BOKEH_TARGET = "bokeh"  # inside the built _static folder
INTERACTIVE_MARKER = 'class="gnn-interactive"'  # gnncourse.interactive.HTML_CLASS


def bokeh_js_dir() -> Path:
    """The folder of BokehJS's browser files in the installed ``bokeh`` package."""
    js = Path(bokeh.__file__).parent / "server" / "static" / "js"
    missing = [f for f in BOKEH_FILES if not (js / f).is_file()]
    if missing:
        raise ExtensionError(f"BokehJS files {missing} are missing from {js}: reinstall bokeh "
                             f"(`pip install -e '.[dev]'`), then build again")
    return js


def copy_bokeh(js: Path, static_dir: Path) -> Path:
    """Copy BokehJS into ``static_dir/bokeh``; return that folder."""
    dest = static_dir / BOKEH_TARGET
    dest.mkdir(parents=True, exist_ok=True)
    for name in BOKEH_FILES:
        shutil.copy2(js / name, dest / name)
    return dest


def _bokeh_on_interactive_pages(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if INTERACTIVE_MARKER in context.get("body", ""):
        for name in BOKEH_FILES:
            app.add_js_file(f"{BOKEH_TARGET}/{name}")


def mathjax_es5_dir() -> Path:
    """The folder of MathJax's ``es5`` browser files installed by ``django-static-mathjax``."""
    spec = importlib.util.find_spec("mathjax")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        es5 = Path(root) / "static" / "mathjax" / "es5"
        if (es5 / "tex-mml-chtml.js").is_file():
            return es5
    raise ExtensionError(
        "MathJax for offline use is not installed: run `make install` "
        "(or `pip install django-static-mathjax==3.2.2.1`), then build again"
    )


def copy_mathjax(es5: Path, static_dir: Path) -> Path:
    """Copy the MathJax files a page needs into ``static_dir/mathjax``; return that folder."""
    dest = static_dir / TARGET
    for name in FILES:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(es5 / name, dest / name)
    for name in FOLDERS:
        shutil.copytree(es5 / name, dest / name, dirs_exist_ok=True)
    return dest


def _check_config(app: Sphinx, config) -> None:
    path = str(config.mathjax_path or "")
    if "://" in path or path.startswith("//"):
        raise ExtensionError(
            f"mathjax_path is {path!r}, a network URL: set `sphinx: config: mathjax_path: "
            f"{TARGET}/tex-mml-chtml.js` in _config.yml so the book renders maths offline"
        )
    mathjax_es5_dir()  # fail at the start of the build, not after it, if MathJax is missing
    bokeh_js_dir()


def _copy_after_build(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    copy_mathjax(mathjax_es5_dir(), Path(app.outdir) / "_static")
    copy_bokeh(bokeh_js_dir(), Path(app.outdir) / "_static")


def _one_copy_of_each_script(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts, seen = [], set()
    for js in context.get("script_files", []):
        attrs = getattr(js, "attributes", {})
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            scripts.append(js)
    context["script_files"] = scripts


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _check_config)
    app.connect("html-page-context", _bokeh_on_interactive_pages, priority=400)  # before the de-duplication
    app.connect("html-page-context", _one_copy_of_each_script)
    app.connect("build-finished", _copy_after_build)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
