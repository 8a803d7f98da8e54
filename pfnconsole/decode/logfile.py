"""Open a log named on the command line, refusing what is not a regular file.

A FIFO, a device, a directory or a socket would block the open, never end, or not read
at all; the decoder also reads a log twice (calibrate, then decode), which only a
regular file allows.  The open itself never blocks (``O_NONBLOCK``), and the check is
made on the open descriptor, so nothing can be swapped in between.  A symlink to a
regular file is followed.
"""

from __future__ import annotations

import os
import stat
from typing import TextIO

_KINDS = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"),
          (stat.S_ISSOCK, "socket"), (stat.S_ISLNK, "symbolic link"))


class NotRegularFile(OSError):
    """The path names something other than a regular file."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(f"{path} is a {kind}, not a regular file")
        self.path = path
        self.kind = kind


def file_kind(mode: int) -> str:
    """What an ``st_mode`` names: "regular file", "FIFO", "directory" ..."""
    if stat.S_ISREG(mode):
        return "regular file"
    return next((name for test, name in _KINDS if test(mode)), "special file")


def open_log(path: str | os.PathLike[str]) -> TextIO:
    """``path`` opened for reading as UTF-8 (bad bytes replaced).

    Raises `NotRegularFile` for anything but a regular file, and OSError as `open` does.
    """
    return open(open_regular_fd(path), encoding="utf-8", errors="replace")


def open_regular_fd(path: str | os.PathLike[str]) -> int:
    """A read-only descriptor of ``path`` if it is a regular file (see the module)."""
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        try:  # a socket cannot be opened at all (ENXIO): say what it is
            mode = os.stat(path).st_mode
        except OSError:
            mode = stat.S_IFREG
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, file_kind(mode)) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, file_kind(mode))
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
