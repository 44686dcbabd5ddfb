"""Replacing a directory whole: at every instant its path holds the complete
old directory or the complete new one.

A new directory is written beside the target, as `.NAME.staging-PID-TOKEN`,
then swapped in. On Linux the swap is one `renameat2(RENAME_EXCHANGE)`,
which exchanges the two paths atomically: no instant sees the path empty,
whatever kills the process. Where the kernel or filesystem cannot exchange
(macOS, Windows), the old directory is renamed aside, as
`.NAME.old-PID-TOKEN`, and the new one renamed in: a process killed between
the two renames leaves the path empty for a moment, the old copy beside it.
Either way the process id in the name tells the next save which of these
leftovers belong to a process that is gone, and it removes them.
"""

import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import sys

# renameat2's arguments (linux/fcntl.h, linux/fs.h).
AT_FDCWD = -100
RENAME_EXCHANGE = 2
# Where the call exists but the filesystem or kernel cannot exchange.
CANNOT_EXCHANGE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)


def staging_directory(target):
    """Creates and returns an empty directory beside `target` for its
    replacement, with the permissions the user's umask gives."""
    path = _sibling(target, "staging")
    path.mkdir(mode=0o777)
    return path


def swap_into_place(new, target):
    """Puts the directory `new` at `target`. An existing `target` is
    exchanged with `new`, so that `new` then holds the old directory, for the
    caller to remove."""
    if not target.exists():
        os.rename(new, target)
    elif not exchange(new, target):
        aside = _sibling(target, "old")
        os.rename(target, aside)
        os.rename(new, target)
        os.rename(aside, new)


def exchange(first, second):
    """Exchanges two paths atomically; `False` where the system cannot."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    # ctypes calls raise no audit event of their own, as os.rename does.
    sys.audit("keras_gmlp.exchange", str(first), str(second))
    status = renameat2(
        AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE
    )
    if status == 0:
        return True
    error = ctypes.get_errno()
    if error in CANNOT_EXCHANGE:
        return False
    raise OSError(error, os.strerror(error), str(first), None, str(second))


def remove_leftovers(target):
    """Removes the staging and set-aside directories of `target` that saves
    of processes no longer running (killed ones) left behind."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(staging|old)-(.*)$")
    for path in target.parent.iterdir():
        match = pattern.match(path.name)
        if match and not _is_running(match.group(2).partition("-")[0]):
            shutil.rmtree(path, ignore_errors=True)


def _sibling(target, kind):
    """A new name beside `target` for a `kind` of leftover, naming this
    process."""
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _is_running(pid):
    """Whether the process `pid` (a string, from a leftover's name) runs;
    names without one are older keras_gmlp's leftovers, long gone."""
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # this process saves one preset at a time
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


@functools.cache
def _renameat2():
    """glibc's `renameat2`, or `None` where the C library has none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]
    return function
