"""Training option files that name a ``base:``: an ablation states only what it changes.

``options/mmrb_sg2_128_plain_samples.yml`` holds ``base: mmrb_sg2_128_samples.yml``, its
``name`` and ``network_g: {use_mmrb: false}``; everything else comes from the base. Mappings
merge key by key (the file's value wins, recursively); any other value, lists and ``~``
included, replaces the base's. The path is relative to the file that names it, and a base may
name its own base.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.yml").write_text("name: a\\ntrain: {lr: 1, iters: 10}\\n")
>>> _ = (d / "b.yml").write_text("base: a.yml\\nname: b\\ntrain: {iters: 20}\\n")
>>> load_options(d / "b.yml")
{'name': 'b', 'train': {'lr': 1, 'iters': 20}}
"""

from __future__ import annotations

import os
from pathlib import Path


class OptionsError(ValueError):
    """An option file that cannot be read or resolved; the message names the file."""


def merge_options(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``: mappings merge recursively, other values replace.

    >>> merge_options({'a': {'x': 1, 'y': 2}, 'b': [1]}, {'a': {'y': 3}, 'b': None})
    {'a': {'x': 1, 'y': 3}, 'b': None}
    """
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_options(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> dict:
    # BasicSR's loader: it keeps key order and reads `!!float 1e-3` like the shipped files.
    import yaml
    from basicsr.utils.options import ordered_yaml

    try:
        text = path.read_text()
    except OSError as err:
        raise OptionsError(f"{path}: cannot read option file ({err.strerror or err})") from None
    try:
        opt = yaml.load(text, Loader=ordered_yaml()[0])
    except yaml.YAMLError as err:
        raise OptionsError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(opt, dict):
        raise OptionsError(f"{path}: an option file must be a mapping, got {type(opt).__name__}")
    return _plain(opt)


def load_options(path: str | os.PathLike, _seen: tuple[Path, ...] = ()) -> dict:
    """The options in ``path`` with its ``base:`` chain resolved (the ``base`` key removed)."""
    path = Path(path).resolve()
    if path in _seen:
        chain = " -> ".join(p.name for p in (*_seen, path))
        raise OptionsError(f"{path}: base chain loops ({chain})")
    opt = _read(path)
    base = opt.pop("base", None)
    if base is None:
        return opt
    if not isinstance(base, str):
        raise OptionsError(f"{path}: base must be a file name, got {base!r}")
    base_path = path.parent / base
    if not base_path.is_file():
        raise OptionsError(f"{path}: base {base!r} not found (looked for {base_path})")
    return merge_options(load_options(base_path, (*_seen, path)), opt)


def dump_options(opt: dict) -> str:
    """YAML text of resolved options, keys in their order, readable by BasicSR's loader."""
    import yaml

    return yaml.safe_dump(_plain(opt), sort_keys=False, default_flow_style=None, width=100)


def _plain(value):
    # OrderedDicts from BasicSR's loader would be dumped with python tags.
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
