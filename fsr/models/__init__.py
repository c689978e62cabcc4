"""Training models, registered in BasicSR's ``MODEL_REGISTRY`` (``model_type:`` in YAML).

Importing this package registers everything a training YAML can name: fsr's architectures,
losses (``fsr/losses``), datasets (``fsr/data/*_dataset.py``) and models (``*_model.py``)::

    >>> import fsr.models
    >>> from basicsr.utils.registry import MODEL_REGISTRY
    >>> MODEL_REGISTRY.get('SAM3DModel')
    <class 'fsr.models.sam3d_model.SAM3DModel'>
"""

import importlib
from pathlib import Path

import fsr.archs  # noqa: F401  (registers architectures)

_HERE = Path(__file__).parent
for _pattern, _package in (("*.py", "fsr.losses"), ("*_dataset.py", "fsr.data"),
                           ("*_model.py", "fsr.models")):
    for _file in sorted((_HERE.parent / _package.split(".")[1]).glob(_pattern)):
        if _file.stem != "__init__":
            importlib.import_module(f"{_package}.{_file.stem}")
