"""Where a kernel's terminals socket lives: derived from its connection file.

The Jupyter server names a kernel's connection file ``kernel-<id>.json`` in its
runtime folder (jupyter_core's ``jupyter_runtime_dir()``, private to the user)
and knows it from the kernel id; the kernel knows its own. So both derive the
same socket path from that file with no other channel, and no TCP port is
opened: the socket sits in a 0700 folder ``modwsgi-magics`` beside it.
A Unix socket path has at most 107 bytes; a longer one moves to a 0700
folder of the user's in the temporary folder, named by a hash.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile

#: The longest Unix socket path Linux takes (sun_path is 108 bytes with the NUL).
MAX_SOCKET_PATH = 107


def socket_path(connection_file: str) -> str:
    """The socket of the kernel whose connection file is ``connection_file``.

    >>> socket_path("/home/ada/.local/share/jupyter/runtime/kernel-4f2a.json")
    '/home/ada/.local/share/jupyter/runtime/modwsgi-magics/kernel-4f2a.sock'
    """
    connection_file = os.path.abspath(connection_file)
    folder, name = os.path.split(connection_file)
    stem = os.path.splitext(name)[0]
    path = os.path.join(folder, "modwsgi-magics", stem + ".sock")
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(connection_file)).hexdigest()[:24]
    return os.path.join(tempfile.gettempdir(), f"modwsgi-magics-{os.getuid()}", digest + ".sock")


def private_folder(path: str, create: bool) -> bool:
    """True when the folder of ``path`` is ours and no one else's (0700).

    ``create`` makes it first. A folder someone else owns, or that others
    may enter, is refused: the socket gives a terminal to whoever connects.
    """
    folder = os.path.dirname(path)
    if create:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.getuid()
        and stat.S_IMODE(info.st_mode) & 0o077 == 0
    )
