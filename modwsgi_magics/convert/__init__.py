"""The converter: Educates workshop Markdown in, notebooks that use the magics out.

``actions`` reads one fenced block, ``templating`` does what Educates'
renderers do to a page (Liquid, Hugo shortcodes, data variables), ``notebook``
reads a page and renders cells, ``linking`` (with ``servers``) reads the pages
as the terminals live through them, ``images`` and ``exercises`` rewrite
links and paths: all pure. ``workshop`` finds a folder's pages in the
workshop's order, with what its configuration says; ``files`` reads the pages
and writes the notebooks, images and exercises. Nothing here imports IPython.
"""

from .files import Conversion, WrittenNotebook, convert_files

__all__ = ["Conversion", "WrittenNotebook", "convert_files"]
