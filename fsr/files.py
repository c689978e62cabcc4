"""Write a file whole or not at all: a temp file beside it, then ``os.replace``.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("whole")
    >>> target.read_text(), [p.name for p in target.parent.iterdir()]
    ('whole', ['notes.txt'])

Readers (a resumed benchmark, a data-loader worker, a second process) see the old file or the
new one, never half of one: a killed writer leaves at most a hidden ``.<name>.*.part<suffix>``
temp file, and an exception in the block removes it and leaves ``path`` as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temp path in ``path``'s folder (created empty, with the mode a plain ``open``
    gives); when the block ends without error it replaces ``path``, otherwise it is removed.

    The temp name ends with ``path``'s suffix, so writers that add a missing suffix
    (``np.savez``) write to it as given. ``fsync=True`` flushes the bytes to disk before the
    rename (checkpoints: survive a power cut, not only a killed process).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part{path.suffix}")
    # O_EXCL: never another writer's temp; 0o666 less the umask, as open() would make it
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        if fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
