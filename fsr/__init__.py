"""fsr: face super-resolution and blind face restoration, measured per head pose.

Importing ``fsr.archs`` registers its architectures in BasicSR's ``ARCH_REGISTRY``::

    >>> import fsr.archs
    >>> from basicsr.utils.registry import ARCH_REGISTRY
    >>> net = ARCH_REGISTRY.get('SAM3D')(scale=4)

``import fsr`` itself imports nothing heavy (no torch), so the scripts over its libraries
(``leaderboard/make.py``, ``bench/run.py --help``, ``python -m fsr --help``) start at once;
whatever builds a network (fsr.methods, fsr.models, fsr.archs.pretrained) imports fsr.archs.
"""

__version__ = "0.1.0"
