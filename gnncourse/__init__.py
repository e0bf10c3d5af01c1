"""gnncourse: the tested companion package of the Graph Neural Networks course book.

One module per idea, named after the chapter that introduces it; import what a chapter
needs, e.g. ``from gnncourse.data import load_cora``. See book/contributing.md for the map.
"""
import warnings

# PyG imports tqdm.auto, which warns when ipywidgets is absent; the book uses text bars.
warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"
