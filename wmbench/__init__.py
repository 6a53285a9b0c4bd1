"""wmbench: a benchmark suite for planning with learned world models.

Importing this package is cheap (no torch); submodules import heavy dependencies themselves.
"""

__version__ = "0.1.0"
