"""Architectures, registered in BasicSR's ``ARCH_REGISTRY`` on import.

Every ``*_arch.py`` module in this folder is imported here, BasicSR style.
"""

import importlib
from pathlib import Path

for _file in sorted(Path(__file__).parent.glob("*_arch.py")):
    importlib.import_module(f"fsr.archs.{_file.stem}")
