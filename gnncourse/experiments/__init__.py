"""Studies: the book's experiments, apart from the library.

One module per study. A study owns what the library must not know: dataset names, the
recipes that were tuned for them, the published numbers it is compared with, its protocols,
its results files and its command line. Library modules (``gnncourse/*.py``) never mention a
chapter, a dataset of a study or a paper's value (``tests/test_architecture.py`` checks it).

* :mod:`gnncourse.experiments.gnnexplainer`: the GNNExplainer benchmark, reproduced.
* :mod:`gnncourse.experiments.xgnn`: the settings of the XGNN explanations.
"""
