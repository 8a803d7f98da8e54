"""The user's files: read only regular ones, write without harming anything not ours.

Reading (`load`, `run FILE`, `machine from-log`, lessons): the path is opened without
blocking (a FIFO with no writer would wait forever) and the open descriptor is checked:
a FIFO, a device, a socket or a directory is refused before a byte is read, and at most a
stated number of bytes is read.  A link to a regular file may be followed: reading harms
nothing.

Writing (`save`): only a regular file, never through a symbolic link, and never over an
existing file unless asked (``force``).  The bytes go to a new temporary file beside the
target, created exclusively (``O_EXCL|O_NOFOLLOW``: a planted link or file of that name is
never opened), fsync'd, then linked or renamed into place; on any failure the temporary
file is removed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from ..core.errors import EngineError
from ..decode.logfile import NotRegularFile, file_kind, open_regular_fd


class FileError(EngineError):
    """A file the console will not read or write; the message names it and says why."""

    data: dict[str, str] = {}  # never mutated: FileExists sets its own
    """Details a front end can act on (the refused command's result data)."""


class FileExists(FileError):
    """`save` to a regular file that is there already (the console offers --force)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.data = {"exists": str(path)}


def kind_of(mode: int) -> str:
    """What a file mode is, in words: 'a FIFO', 'a directory', …"""
    return "a " + file_kind(mode)


def open_regular(path: str | Path, what: str) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file; FileError otherwise."""
    try:
        fd = open_regular_fd(path)
    except NotRegularFile as e:
        raise FileError(f"{what}: {e}") from None
    except OSError as e:
        raise FileError(f"{what}: cannot read {path}: {e.strerror}") from None
    return os.fdopen(fd, "rb")


def read_text(path: str | Path, limit: int, what: str) -> str:
    """The whole of a regular file of at most ``limit`` bytes, as text."""
    with open_regular(path, what) as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise FileError(f"{what}: cannot read {path}: {e.strerror}") from None
    if len(data) > limit:
        raise FileError(f"{what}: {path} is larger than {size_words(limit)}; "
                        "nothing was read")
    return data.decode("utf-8", errors="replace")


def size_words(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


def bounded_lines(stream: TextIO, limit: int) -> Iterator[tuple[int, str, bool]]:
    """(line number, text without its newline, cut) for each line of ``stream``.

    A line longer than ``limit`` characters keeps its first ``limit``; the rest is read
    in pieces and dropped, so memory stays flat whatever the input (``/dev/zero`` too).
    """
    number = 0
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if chunk.endswith("\n"):
            yield number, chunk[:-1], False
        elif len(chunk) <= limit:
            yield number, chunk, False  # the last line, without a newline
        else:
            while (rest := stream.readline(1 << 16)) and not rest.endswith("\n"):
                pass
            yield number, chunk[:limit], True


def write_file(path: str | Path, data: bytes, *, force: bool, what: str = "save") -> Path:
    """Write ``data`` to the regular file ``path`` as described above; the path written."""
    if str(path).endswith(("/", os.sep)):
        raise FileError(f"{what}: {path} names a directory; name a file")
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise FileError(f"{what}: {path} is a directory; name a file")
    _check_target(path, force, what)
    parent = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise FileError(f"{what}: cannot write in {parent}: {e.strerror}") from None
    try:
        try:
            os.fchmod(fd, _mode_for(path))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if force:
            _check_target(path, force, what)  # it may have changed while we wrote
            os.replace(tmp, path)
        else:
            _link_new(tmp, path, what)
        _fsync_dir(parent)
    except OSError as e:
        raise FileError(f"{what}: cannot write {path}: {e.strerror}; nothing written") \
            from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return path


def _check_target(path: Path, force: bool, what: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise FileError(f"{what}: cannot write {path}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise FileError(f"{what}: {path} is a symbolic link; {what} writes only regular "
                        "files, so name the file itself")
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{what}: {path} is {kind_of(st.st_mode)}, not a regular file; "
                        "nothing written")
    if not force:
        raise FileExists(f"{what}: {path} exists; `{what} --force {path}` replaces it", path)


def _link_new(tmp: str, path: Path, what: str) -> None:
    """Put ``tmp`` at ``path`` only if nothing is there (link() never replaces)."""
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        raise FileExists(f"{what}: {path} exists; `{what} --force {path}` replaces it",
                         path) from None
    except OSError as e:
        if e.errno not in (1, 95):  # EPERM, EOPNOTSUPP: a filesystem without hard links
            raise
        _check_target(path, False, what)
        os.rename(tmp, path)


def _mode_for(path: Path) -> int:
    """An existing file keeps its permissions; a new one gets 0666 less the umask."""
    try:
        return stat.S_IMODE(os.lstat(path).st_mode)
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
