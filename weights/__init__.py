"""fsr's own trained weights and their model cards, shipped with the package as data.

Installed as the package ``fsr.weights`` (pyproject maps this folder there), so the resolver
finds them with :mod:`importlib.resources` in a checkout and after ``pip install`` alike:
``fsr.assets.resolver.bundled_dir()``.
"""
