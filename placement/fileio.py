"""Reading YAML/JSON documents with positions, turning validation errors into
:class:`~placement.errors.Problem` lists, and writing files atomically.

The YAML loader is PyYAML's safe loader with two changes a careful user
expects: numbers such as ``1.25e5`` are floats (YAML 1.2 style; PyYAML's
YAML 1.1 rules would read them as strings), and a key given twice in one
mapping is an error instead of the last one silently winning.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError, Problem
from .limits import (
    MAX_DEPTH,
    check_data_depth,
    check_yaml_nodes,
    open_temporary,
    read_bounded_bytes,
    remove_stale_temporaries,
)
from .limits import check_output_path as check_output_path  # noqa: F401 - one place for CLI output checks

LineMap = dict[tuple, int]


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


_MERGE = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader with YAML 1.2 floats, duplicate-key detection and merge keys."""

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:  # `<<: *base`: merged keys may be overridden
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first given on line {seen[key]})",
                        key_node.start_mark,
                    )
                seen[key] = key_node.start_mark.line + 1
            self.flatten_mapping(node)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _line_map(node: yaml.Node, prefix: tuple = (), out: LineMap | None = None, seen: set | None = None) -> LineMap:
    out = {} if out is None else out
    seen = set() if seen is None else seen
    out.setdefault(prefix, node.start_mark.line + 1)
    if id(node) in seen:  # an alias: its fields' lines are those of the anchor, mapped once
        return out
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            out[prefix + (key,)] = key_node.start_mark.line + 1
            _line_map(value_node, prefix + (key,), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, prefix + (i,), out, seen)
    return out


def _parse_yaml(text: str, name: str) -> tuple[Any, LineMap]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()  # type: ignore[attr-defined]
        if node is None:
            raise InputError(Problem(name, "", "the file is empty"))
        check_yaml_nodes(node, name)  # before anything expands aliases
        data = loader.construct_document(node)  # type: ignore[attr-defined]
        return data, _line_map(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or str(exc)
        if exc.context and exc.problem:
            what = f"{exc.context}: {exc.problem}" if "duplicate" not in exc.problem else exc.problem
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InputError(
            Problem(name, "", f"malformed YAML: {where}{what}", mark.line + 1 if mark else None)
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        what = f"character U+{exc.character:04X}" if isinstance(exc.character, int) else "character"
        raise InputError(Problem(name, "", f"malformed YAML: line {line}, column {column}: control {what} is not allowed in a YAML file", line)) from None
    except yaml.YAMLError as exc:
        raise InputError(Problem(name, "", f"malformed YAML: {exc}")) from None
    finally:
        loader.dispose()  # type: ignore[attr-defined]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_json(text: str, name: str) -> tuple[Any, LineMap]:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(name, "", f"malformed JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}", exc.lineno)
        ) from None
    except ValueError as exc:
        raise InputError(Problem(name, "", f"malformed JSON: {exc}")) from None
    except RecursionError:
        raise InputError(Problem(name, "", f"nesting deeper than the limit of {MAX_DEPTH} levels")) from None
    check_data_depth(data, name)
    return data, _LazyJsonLines(text)


class _LazyJsonLines(dict):
    """The line map of a JSON text, composed only when a problem needs a line number.

    JSON is (nearly) YAML, so the YAML composer gives line numbers; it costs
    about 50x ``json.loads`` on a large profile, so valid files never pay it.
    """

    def __init__(self, text: str):
        super().__init__()
        self._text: str | None = text

    def _load(self) -> None:
        if self._text is not None:
            text, self._text = self._text, None
            try:
                self.update(_line_map(yaml.compose(text, Loader=_Loader)))
            except Exception:  # noqa: BLE001 - line numbers are a convenience only
                pass

    def __contains__(self, key) -> bool:
        self._load()
        return super().__contains__(key)

    def __getitem__(self, key):
        self._load()
        return super().__getitem__(key)

    def get(self, key, default=None):
        self._load()
        return super().get(key, default)

    def __len__(self) -> int:
        self._load()
        return super().__len__()

    def __bool__(self) -> bool:
        return self._text is not None or super().__len__() > 0


def read_document(path: str | os.PathLike, display: str | None = None) -> tuple[Any, LineMap]:
    """Parse a YAML or JSON file into plain data plus a map from field path to line.

    JSON is chosen by a ``.json`` suffix (or a leading ``{``/``[``), YAML otherwise.
    Raises :class:`InputError` naming the file, line and column on any problem,
    and quickly on hostile input: not a regular file, too big, nested too deep,
    or YAML aliases that expand too far (see :mod:`placement.limits`).
    """
    name = display or str(path)
    raw = read_bounded_bytes(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(Problem(name, "", f"not UTF-8 text: line {line}: byte 0x{raw[exc.start]:02x} at offset {exc.start} (a binary file?)", line)) from None
    if not text.strip():
        raise InputError(Problem(name, "", "the file is empty"))
    is_json = str(path).lower().endswith(".json") or text.lstrip()[:1] in "{["
    return _parse_json(text, name) if is_json else _parse_yaml(text, name)


def format_path(loc: tuple | list) -> str:
    """Render a location tuple as ``links[1].bandwidth_bytes_per_s``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def lookup_line(lines: LineMap, loc: tuple) -> int | None:
    """Line of the deepest known prefix of ``loc``."""
    loc = tuple(loc)
    while True:
        if loc in lines:
            return lines[loc]
        if not loc:
            return None
        loc = loc[:-1]


def _short(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}

_TYPE_WORDS = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "tuple_type": "a list",
}


#: Fields of earlier releases, with what replaces them.
RENAMED_FIELDS = {
    "bandwidth_bps": "renamed to 'bandwidth_bytes_per_s': the bandwidth in BYTES per second, not bits "
    "(10 Mbit/s = 1.25e6 bytes/s); rename the field and check that the value is in bytes",
    "memory_bandwidth_bps": "renamed to 'memory_bandwidth_bytes_per_s' (bytes per second, not bits)",
}


def _message(err: dict, model: type[BaseModel] | None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        field = err["loc"][-1] if err["loc"] else "?"
        if field in RENAMED_FIELDS:
            return RENAMED_FIELDS[str(field)]
        hint = ""
        known = _known_fields(model, err["loc"][:-1])
        close = difflib.get_close_matches(str(field), known, n=1)
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        elif known:
            hint = f" (allowed: {', '.join(sorted(known))})"
        return f"unknown field{hint}"
    if kind in _BOUNDS:
        op, key = _BOUNDS[kind]
        why = "" if ctx.get(key) == 0 else " (outside the accepted range, see 'Accepted ranges' in docs/formats.md)"
        return f"must be {op} {_short(ctx.get(key))}, got {_short(value)}{why}"
    if kind == "finite_number":
        return f"must be a finite number, got {_short(value)}"
    if kind in ("too_short", "too_long"):
        return err["msg"].replace("List", "list").replace("Value", "value") + f", got {_short(value)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_short(value)}"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, got {type(value).__name__} {_short(value)}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"]


def _known_fields(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """Field names allowed at ``loc`` inside ``model`` (best effort, for hints)."""
    current: Any = model
    for part in loc:
        inner = _inner_model(current)
        if inner is None:
            return []
        if isinstance(part, str) and part in inner.model_fields:
            current = inner.model_fields[part].annotation
        else:  # a list index or a dict key: stay on the element's model
            current = inner
    inner = _inner_model(current)
    return list(inner.model_fields) if inner is not None else []


def _inner_model(tp: Any) -> Any:
    """Find a BaseModel inside an annotation such as ``list[X] | None``."""
    import typing

    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in typing.get_args(tp):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def validation_problems(
    exc: ValidationError,
    file: str | None,
    lines: LineMap | None = None,
    model: type[BaseModel] | None = None,
    prefix: tuple = (),
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into one :class:`Problem` per error."""
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix + tuple(err["loc"])
        line = lookup_line(lines or {}, loc)
        out.append(Problem(file, format_path(loc), _message(err, model), line))
    return out


def parse_model(
    model: type[BaseModel], data: Any, file: str | None, lines: LineMap | None = None
) -> BaseModel:
    """Validate plain data as ``model``; raise :class:`InputError` listing every problem."""
    if not isinstance(data, dict):
        raise InputError(Problem(file, "", f"expected a mapping at the top level, got {type(data).__name__}"))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, file, lines, model)) from None


def reference_from(folder: str | os.PathLike, target: str | os.PathLike) -> str:
    """How a file in ``folder`` names ``target``: a relative POSIX path, or the
    absolute one where none exists (another drive on Windows)."""
    resolved = Path(target).resolve()
    try:
        return Path(os.path.relpath(resolved, Path(folder).resolve())).as_posix()
    except ValueError:
        return str(resolved)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a reader sees the old file or the new one.

    The text goes to a temporary file ``.NAME.idnplan-tmp-PID`` in the same
    folder, is flushed to disk and then renamed over ``path``; an interrupted
    run never leaves a half file, and a temporary file left by a killed run
    (``kill -9``) says what it is and is removed by the next write of ``path``.
    Missing folders are created. A target that exists but is not a regular
    file (a folder, device, pipe) is refused with :class:`InputError`, as is
    any write that fails (the message names the file and the reason).
    """
    target = Path(path)
    name = str(path)
    if not name or target.is_dir():
        raise InputError(Problem(name or None, "", "cannot write: not a file name (empty, or a folder)"))
    if os.path.lexists(target) and not target.is_file():
        raise InputError(Problem(name, "", "cannot write: not a regular file (a device, pipe or socket)"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        tmp, fd = open_temporary(target)
    except (OSError, ValueError) as exc:
        raise InputError(Problem(name, "", f"cannot write: {getattr(exc, 'strerror', None) or exc}")) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.chmod(tmp, _new_file_mode(target))
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise InputError(Problem(name, "", f"cannot write: {exc.strerror or exc}")) from None
        raise


def _new_file_mode(target: Path) -> int:
    """Keep an existing file's mode; new files get the usual 0666 & ~umask."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def dump_json(data: Any) -> str:
    """JSON text with stable key order as given, 2-space indent, trailing newline."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def dump_yaml(data: Any) -> str:
    """YAML text that round-trips through :func:`read_document`."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


def finite_or_null(x: Any) -> Any:
    """``x`` with every non-finite float (inf, nan) replaced by None, through dicts,
    lists and tuples (tuples become lists): plain data for JSON output."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: finite_or_null(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite_or_null(v) for v in x]
    return x
