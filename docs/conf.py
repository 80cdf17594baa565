"""Sphinx configuration of the stdpsim documentation: the Markdown pages (MyST) and the API
reference generated from the numpy-style docstrings (autodoc + napoleon).

Build: ``sphinx-build -W docs docs/_build`` (``tests/test_docs.py`` does, with warnings as
errors).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "stdpsim"
author = "the stdpsim developers"
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon",
              "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # attributes as fields: dataclass members are listed once
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
html_theme = "alabaster"
