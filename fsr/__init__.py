"""fsr: face super-resolution and blind face restoration, measured per head pose.

Importing ``fsr`` registers its architectures in BasicSR's ``ARCH_REGISTRY``::

    >>> import fsr
    >>> from basicsr.utils.registry import ARCH_REGISTRY
    >>> net = ARCH_REGISTRY.get('SAM3D')(scale=4)
"""

import sys

__version__ = "0.1.0"

# `python -m fsr ...` imports this package before its __main__; skip the ~10 s
# torch/basicsr import there so `--help` is instant (each command imports what it needs).
if sys.argv[:1] != ["-m"]:
    from fsr import archs  # noqa: F401  (registers architectures)
