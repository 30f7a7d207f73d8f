"""Where results are written: output paths checked before any work, and writes that lose nothing.

Three promises, because a tool that once overwrote a user's file is not installed twice:

- An output is never one of the command's inputs (same device and inode, so ``./a.csv``,
  ``a/../a.csv``, hard links and symlinks are all caught), and a path that cannot be
  written (no directory, a directory, a name too long) is refused before training starts.
- A regular file is replaced atomically (a temporary file beside it, renamed into place),
  keeping the previous file's mode (else the umask's), so a failure leaves the old one.
- Anything else (``/dev/stdout``, ``/dev/full``, a FIFO) is written directly: renaming a
  regular file over a device node would replace the device. A symlink is followed to its
  target, never replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from forecaster.errors import UsageError

# Names of files that are written directly, never replaced: kernel interfaces.
_SPECIAL_ROOTS = ("/dev/", "/proc/")
_TEMP_SUFFIX = ".tmp"
_TOKEN_CHARS = 8


@dataclass(frozen=True)
class Output:
    """A checked output path."""

    given: str  # as the user wrote it, for messages
    path: Path  # the file to write: a symlink's target, or the path itself
    special: bool  # a device, FIFO or socket (or under /dev, /proc): written directly

    def __str__(self) -> str:
        return self.given


def check_output(
    given: str | os.PathLike[str],
    inputs: Sequence[tuple[str, str | os.PathLike[str] | None]] = (),
    option: str = "--output",
) -> Output:
    """Refuse an output path that cannot be written or that is one of ``inputs``.

    ``inputs`` are (what it is, path) pairs such as ("the training data", "data.csv");
    ``-`` and ``None`` are skipped; ``option`` is the flag that gave the path, for the
    messages. Raises `UsageError` (exit code 2).
    """
    text = os.fspath(given)
    if not text:
        raise UsageError(f"{option} is empty; give a file name")
    if text.endswith(("/", os.sep)) or os.path.basename(text) in (".", ".."):
        raise UsageError(f"{option} {text} names a directory; give a file name inside it")
    name = os.fsencode(os.path.basename(text))
    if len(name) > _name_max(Path(os.path.dirname(text) or ".")):
        raise _too_long(text, len(name), _name_max(Path(os.path.dirname(text) or ".")))
    try:
        info: os.stat_result | None = os.stat(text)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"cannot write {text}: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {text} is a directory; give a file name")
    if info is not None and (not stat.S_ISREG(info.st_mode) or _under_special_root(text)):
        if not os.access(text, os.W_OK):
            raise UsageError(f"cannot write {text}: permission denied")
        return Output(text, Path(text), special=True)
    # A regular file or a new one; a (possibly dangling) symlink is followed to its target.
    path = Path(os.path.realpath(text)) if os.path.islink(text) else Path(text)
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"cannot write {text}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {text}: directory {directory} is not writable")
    limit = _name_max(directory)
    if len(os.fsencode(path.name)) > limit:  # a symlink's target
        raise _too_long(text, len(os.fsencode(path.name)), limit)
    if info is not None:
        for role, source in inputs:
            if source is None or os.fspath(source) == "-":
                continue
            with contextlib.suppress(OSError):
                other = os.stat(source)
                if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
                    raise UsageError(
                        f"{option} {text} is {role} ({os.fspath(source)}); writing there would "
                        "destroy it: choose another output file"
                    )
    return Output(text, path, special=False)


def _too_long(text: str, size: int, limit: int) -> UsageError:
    return UsageError(
        f"cannot write {text}: the file name is {size} bytes, longer than this file system "
        f"allows ({limit}); choose a shorter name"
    )


def _under_special_root(text: str) -> bool:
    absolute = os.path.abspath(text)
    return any(absolute.startswith(root) for root in _SPECIAL_ROOTS)


def _name_max(directory: Path) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _temp_name(path: Path) -> Path:
    """``.NAME.XXXXXXXX.tmp`` beside the target, the name cut so the whole fits the limit."""
    limit = _name_max(path.parent)
    token = secrets.token_hex(_TOKEN_CHARS // 2)
    room = limit - len(".") - len(".") - len(token) - len(_TEMP_SUFFIX)
    name = os.fsencode(path.name)[: max(room, 0)].decode("utf-8", errors="ignore")
    return path.with_name(f".{name}.{token}{_TEMP_SUFFIX}")


def _cannot_write(output: Output, exc: OSError) -> UsageError:
    if isinstance(exc, PermissionError):
        return UsageError(f"cannot write {output}: directory {output.path.parent} is not writable")
    return UsageError(f"cannot write {output}: {exc.strerror or exc}")


def _open_new(path: Path) -> int:
    """Create ``path`` (it must not exist) for writing: 0o666 less the umask, like any other
    tool (mkstemp's 0o600 survived the rename). A replaced file keeps its own mode instead,
    so readers of the previous file can read the new one."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)


def _write_temp(output: Output, payload: bytes) -> Path:
    """The payload in a new temporary file beside the target, flushed to disk."""
    path = output.path
    try:
        previous: os.stat_result | None = os.stat(path)
    except OSError:
        previous = None
    temp = _temp_name(path)
    try:
        handle = _open_new(temp)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    try:
        with os.fdopen(handle, "wb") as out:
            if previous is not None:
                os.fchmod(out.fileno(), stat.S_IMODE(previous.st_mode))
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.fchown(out.fileno(), previous.st_uid, previous.st_gid)
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
    except BaseException as exc:
        _discard(temp, output, exc)
    return temp


def _discard(temp: Path, output: Output, exc: BaseException) -> NoReturn:
    """Remove a temporary file that will not be put in place, and raise why: an OS error
    as the one line naming the output, anything else (an interrupt) as it was."""
    with contextlib.suppress(OSError):
        os.unlink(temp)
    if isinstance(exc, OSError):
        raise _cannot_write(output, exc) from None
    raise exc


def _write_direct(output: Output, payload: bytes) -> None:
    try:
        with open(output.path, "wb") as out:
            out.write(payload)
            out.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _cannot_write(output, exc) from None


@contextlib.contextmanager
def staged(output: Output, payload: bytes) -> Iterator[None]:
    """Write ``payload`` to a temporary file, run the body, then put the file in place.

    If the body raises (a summary that cannot be printed, an interrupt), the temporary file
    is removed and the previous file is untouched: success is decided before the rename.
    A special file cannot be staged; it is written after the body.
    """
    if output.special:
        yield
        _write_direct(output, payload)
        return
    temp = _write_temp(output, payload)
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    try:
        os.replace(temp, output.path)
    except BaseException as exc:
        _discard(temp, output, exc)
    _sync_directory(output.path.parent)


def write(output: Output, payload: bytes) -> None:
    """Write ``payload`` to a checked output: atomically, or directly for a special file."""
    with staged(output, payload):
        pass


def write_file(path: str | os.PathLike[str], payload: bytes) -> None:
    """Check and write in one call, for library users and callers without inputs to protect."""
    write(check_output(path), payload)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def same_file(a: str, b: str) -> bool:
    """One file under two names: the same resolved path, or (both existing) the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
