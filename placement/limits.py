"""Bounds on what idnplan reads and where it writes: every input gets a quick, clear answer.

A hostile or broken input file must end in an :class:`~placement.errors.InputError`
(exit code 2) within seconds, never in a ``MemoryError``, a ``RecursionError`` or a
hang. This module holds the limits and the checks that enforce them:

- input files must be regular files of at most :data:`MAX_INPUT_BYTES`
  (:func:`check_input_file`);
- documents may nest at most :data:`MAX_DEPTH` levels, and YAML aliases may add
  at most :data:`MAX_ALIAS_EXPANSION` nodes to a document (an "alias bomb" of a
  few hundred bytes otherwise expands to billions of nodes);
- output paths (``--out``) must name a regular file, or a new file in an
  existing folder (:func:`check_output_path`);
- identifiers and names must not contain control characters (:func:`control_chars`).
"""

from __future__ import annotations

import glob
import os
import re
import stat
from pathlib import Path
from typing import Any

from .errors import InputError, Problem

#: Largest input file read (instances, profiles, plans, configs), bytes.
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: Deepest nesting of mappings and lists in a document (instances need 6).
MAX_DEPTH = 64
#: Most nodes that YAML aliases (``*name``) may add to a document by expansion.
MAX_ALIAS_EXPANSION = 1_000_000

# C0 and C1 control characters, DEL, and the Unicode bidirectional overrides
# (which reorder how a terminal shows the text around them).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_chars(text: str) -> list[str]:
    """The control characters in ``text``, as ``U+001B`` strings (empty: none)."""
    return sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(text)})


def printable(text: str) -> str:
    """``text`` with control characters (except newline and tab) shown as escapes,
    so a message never sends a raw escape sequence to a terminal."""
    return _CONTROL.sub(lambda m: m.group() if m.group() in "\n\t" else repr(m.group())[1:-1], text)


def check_input_file(path: str | os.PathLike, name: str, field: str = "") -> int:
    """Check that ``path`` is a readable regular file within :data:`MAX_INPUT_BYTES`.

    Returns its size in bytes. Raises :class:`InputError` naming ``name`` (the
    file as the user gave it) and ``field`` otherwise; a missing file gives the
    message ``"no such file"``.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(Problem(name, field, "no such file")) from None
    except ValueError:  # an embedded NUL byte
        raise InputError(Problem(name, field, "the path contains a NUL byte")) from None
    except OSError as exc:
        raise InputError(Problem(name, field, f"cannot read the file: {exc.strerror or exc}")) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(Problem(name, field, "is a folder, not a file"))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(Problem(name, field, "not a regular file (a device, pipe or socket); give a file"))
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(Problem(name, field, f"the file has {st.st_size:,} bytes, more than the limit of {MAX_INPUT_BYTES:,}"))
    return st.st_size


def read_bounded_bytes(path: str | os.PathLike, name: str) -> bytes:
    """The bytes of a checked input file, never more than :data:`MAX_INPUT_BYTES` (a growing file is refused)."""
    check_input_file(path, name)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(Problem(name, "", f"cannot read the file: {exc.strerror or exc}")) from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(Problem(name, "", f"the file has more than the limit of {MAX_INPUT_BYTES:,} bytes"))
    return data


def check_output_path(path: str | os.PathLike | None, flag: str = "--out", mkdir: bool = False) -> Path:
    """Check, before any work is done, that a command can write its output to ``path``.

    ``path`` must be a new file in an existing folder or an existing regular file
    (replaced atomically). Refused with :class:`InputError` (exit code 2): an
    empty path, a folder, a device, pipe or socket, a missing folder (created
    instead when ``mkdir`` is true: the commands' ``--mkdir`` flag), a folder
    that is not writable.
    """
    text = "" if path is None else os.fspath(path)
    if not text:
        raise InputError(Problem(None, flag, "empty path; give the name of the file to write"))
    if control_chars(text):
        raise InputError(Problem(None, flag, f"the path contains control characters ({', '.join(control_chars(text))})"))
    target = Path(text)
    shown = printable(text)
    if text.endswith(("/", os.sep)) or target.is_dir():
        raise InputError(Problem(None, flag, f"'{shown}' is a folder; give a file name (e.g. {Path(text) / 'out.json'})"))
    if os.path.lexists(target):
        try:
            mode = os.stat(target).st_mode
        except OSError as exc:
            raise InputError(Problem(None, flag, f"cannot use '{shown}': {exc.strerror or exc}")) from None
        if not stat.S_ISREG(mode):
            raise InputError(Problem(None, flag, f"'{shown}' is not a regular file (a device, pipe or socket); refusing to replace it"))
    parent = target.parent
    if not parent.exists():
        if not mkdir:
            raise InputError(Problem(None, flag, f"the folder '{printable(str(parent))}' does not exist (create it, or pass --mkdir)"))
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(Problem(None, flag, f"cannot create the folder '{printable(str(parent))}': {exc.strerror or exc}")) from None
    elif not parent.is_dir():
        raise InputError(Problem(None, flag, f"'{printable(str(parent))}' is not a folder"))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(Problem(None, flag, f"cannot write in the folder '{printable(str(parent))}' (permission denied)"))
    return target


def check_yaml_nodes(root: Any, name: str) -> None:
    """Refuse a composed YAML node graph that nests too deep, refers to itself
    through an alias, or whose aliases expand to too many nodes.

    Aliases make the node graph a DAG: the walk visits each distinct node once
    and computes expanded sizes and depths bottom-up, so the check itself is
    linear in the file, whatever the expansion would be.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    cap = MAX_ALIAS_EXPANSION * 10  # sizes saturate here: no huge integers
    stack: list[tuple[Any, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            active.discard(key)
            size[key] = min(cap, 1 + sum(size[id(c)] for c in children))
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if depth[key] > MAX_DEPTH:
                line = node.start_mark.line + 1
                raise InputError(Problem(name, "", f"nesting deeper than the limit of {MAX_DEPTH} levels (line {line})", line))
            continue
        if key in size:
            continue
        if key in active:
            line = node.start_mark.line + 1
            raise InputError(Problem(name, "", f"an alias refers to a node that contains it (a recursive structure, line {line})", line))
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    added = size[id(root)] - len(size)
    if added > MAX_ALIAS_EXPANSION:
        more = "more than " if size[id(root)] >= cap else ""
        raise InputError(Problem(name, "", f"YAML aliases expand to {more}{added:,} more nodes, above the limit of {MAX_ALIAS_EXPANSION:,} (an alias bomb?)"))


def _children(node: Any) -> list:
    value = getattr(node, "value", None)
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        out.extend(item if isinstance(item, tuple) else (item,))
    return out


def check_data_depth(data: Any, name: str) -> None:
    """Refuse parsed data (JSON) that nests deeper than :data:`MAX_DEPTH` levels."""
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if level > MAX_DEPTH:
            raise InputError(Problem(name, "", f"nesting deeper than the limit of {MAX_DEPTH} levels"))
        stack.extend((x, level + 1) for x in item if isinstance(x, (dict, list)))


_TMP_TAG = ".idnplan-tmp-"


def open_temporary(target: Path) -> tuple[Path, int]:
    """Create ``.NAME.idnplan-tmp-PID`` (``-PID-N`` if taken) next to ``target``."""
    base = target.parent / f".{target.name}{_TMP_TAG}{os.getpid()}"
    for n in range(1000):
        tmp = base if n == 0 else base.with_name(f"{base.name}-{n}")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
    raise FileExistsError(f"too many temporary files {base}-*")


def remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files of ``target`` left by processes that no longer run."""
    for tmp in target.parent.glob(f".{glob.escape(target.name)}{_TMP_TAG}*"):
        pid_text = tmp.name[len(target.name) + 1 + len(_TMP_TAG) :].split("-")[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            tmp.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or cannot tell: leave its file alone
    return True
