"""The converter: Educates workshop Markdown in, notebooks that use the magics out.

``actions`` reads one fenced block, ``notebook`` links a workshop's pages and
renders cells (pure), ``workshop`` finds a folder's pages in the workshop's
order, ``files`` reads and writes them. Nothing here imports IPython.
"""

from .files import Conversion, WrittenNotebook, convert_files

__all__ = ["Conversion", "WrittenNotebook", "convert_files"]
