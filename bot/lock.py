"""Only one process serves a database: a second `python -m bot` on the same file (by
mistake, or a container restarted while the old one lives) would post every pending card
twice. The lock is an flock on a file beside the database: the kernel drops it when the
process dies, so a crash can never leave it stuck."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyServed(Exception):
    pass


@contextlib.contextmanager
def serving(database_path: Path) -> Iterator[None]:
    path = database_path.with_name(database_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise AlreadyServed(
                f"another consult-bot process (pid {holder}) is serving {database_path}; "
                "stop it first, or give this one its own DATABASE_PATH"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
