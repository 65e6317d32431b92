"""Files written whole: the one place an output file is written through a temporary name.

Each output is written to FINAL.tmpPID beside it and renamed over FINAL only once complete,
so a run that fails or is killed leaves no half-written file; a failed write removes its
temporary at once, and the temporaries of killed runs (whose PID no longer runs) are removed
by the next run that writes in the same place. Outputs are regular files only: a device, a
folder or a pipe of that name is never replaced.
"""
import contextlib
import glob
import os
import re
import stat

TEMPORARY = re.compile(r'\.tmp(\d+)$')


def check_output(path):
    """Raise ValueError unless `path` is missing or a regular file (links are followed)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise ValueError(f"cannot write {path!r} ({err.strerror})")
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path!r} is {file_kind(mode)}, not a regular file: write to a "
                         "file name")


def file_kind(mode):
    """'a folder', 'a character device', ... for a stat mode."""
    kinds = [(stat.S_ISDIR, 'a folder'), (stat.S_ISCHR, 'a character device'),
             (stat.S_ISBLK, 'a block device'), (stat.S_ISFIFO, 'a named pipe'),
             (stat.S_ISSOCK, 'a socket')]
    return next((kind for test, kind in kinds if test(mode)), 'not a regular file')


@contextlib.contextmanager
def written_whole(path, errors=(OSError,)):
    """Yield the temporary name to write `path` to; it is renamed over `path` when the block
    ends and removed if anything fails. `errors` raised while writing or renaming become
    ValueError naming `path`. Raises ValueError if `path` is not a regular file."""
    check_output(path)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        yield temporary
        os.replace(temporary, path)
    except errors as err:
        raise ValueError(f"cannot write {path!r}: {why_not_written(err)}") from None
    finally:
        with contextlib.suppress(OSError):
            os.remove(temporary)


def why_not_written(err):
    """An OSError's reason; MXNet's writers say only that a write was incomplete."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return "the write was cut short (is the disk full, or a file-size limit reached?)"


def remove_stale_temporaries(pattern):
    """Remove the temporaries of files matching glob `pattern` that runs no longer running
    left behind."""
    for temporary in glob.glob(f"{pattern}.tmp*"):
        match = TEMPORARY.search(temporary)
        if match and not running(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(temporary)


def running(pid):
    """Whether process `pid` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True
