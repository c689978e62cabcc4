"""The embedded sample set (manifest, provenance, aligned crops), shipped with the package as data.

Installed as the package ``fsr.samples`` (pyproject maps this folder there), so
``fsr.data.samples.samples_dir()`` finds it with :mod:`importlib.resources` in a checkout and
after ``pip install`` alike.
"""
