"""One typed schema for every value read from a file (training config, data spec, checkpoint config, official
yaml): each dataclass's own field types are the schema, checked where the file is read, naming the file, the key,
the value and the type expected; nothing is coerced (`mlp_t: 'no'` is refused, not read as true). Config files
are read only when they are regular files of bounded size, and YAML aliases are bounded (an anchor bomb is
refused before it expands)."""
from __future__ import annotations

import math
import os
import reprlib
import stat
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 1 << 20   # a config is a few hundred bytes; an official all_config.yaml a few kB
MAX_YAML_ALIASES = 32        # real configs use none or a few; a "billion laughs" file needs ~80 to explode


class SchemaError(ValueError):
    """A value of the wrong type or out of range in a file: one line naming where."""


def read_config_text(path: str | Path) -> str:
    """The text of a config file: a regular file (not a FIFO that blocks, not /dev/zero) of bounded size."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise SchemaError(f"{path}: not a regular file (a config is read from a file, not a device or pipe)")
    if st.st_size > MAX_CONFIG_BYTES:
        raise SchemaError(f"{path}: {st.st_size:,} bytes is far more than a config holds "
                          f"(at most {MAX_CONFIG_BYTES:,})")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise SchemaError(f"{path}: more than {MAX_CONFIG_BYTES:,} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_yaml(path: str | Path) -> Any:
    """A YAML (or JSON) config, read safely: no Python objects, aliases bounded."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_YAML_ALIASES:
                    raise SchemaError(f"{path}: more than {MAX_YAML_ALIASES} YAML aliases (*name); a config "
                                      "needs a few at most")
            return super().compose_node(parent, index)

    text = read_config_text(path)
    try:
        return yaml.load(text, Loader=BoundedLoader)   # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: not readable YAML or JSON ({str(exc).splitlines()[0][:200]})") from None


def conforms(value: Any, hint: Any) -> bool:
    """Whether `value` is of the annotated type, strictly: a bool is not an int, a float is not an int, a string
    is nothing but a string; an int is accepted where a float is expected; floats must be finite."""
    if hint is Any:
        return True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (tuple, list):
        if not isinstance(value, (tuple, list)):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(value) == len(args) and all(conforms(v, a) for v, a in zip(value, args))
        return all(conforms(v, args[0]) for v in value) if args else True
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return isinstance(value, hint) if isinstance(hint, type) else True


def describe(hint: Any) -> str:
    """The expected type in words, for the one-line error."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else describe(a) for a in args)
    if origin is tuple:
        return f"a list of {len(args)} values"
    if origin is list:
        return "a list"
    if origin is dict or hint is dict:
        return "a mapping"
    return {bool: "true or false", int: "a whole number", float: "a finite number", str: "text"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def shown(value: Any) -> str:
    """A short repr that never expands a large or self-sharing structure (a YAML anchor bomb's value)."""
    short = reprlib.Repr()
    short.maxlevel, short.maxlist, short.maxtuple, short.maxdict, short.maxstring, short.maxother = 2, 4, 4, 4, 40, 40
    return short.repr(value)


def check_values(cls: type, values: dict[str, Any], where: str) -> None:
    """Refuse values of a file for dataclass `cls`'s fields that are not of the annotated types (the first one,
    named with its file and key)."""
    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        if key in hints and not conforms(value, hints[key]):
            raise SchemaError(f"{where}: {key} must be {describe(hints[key])} (got {shown(value)}, "
                              f"{type(value).__name__})")


def check_types(obj: Any, where: str) -> None:
    """Refuse a dataclass instance whose fields are not of their annotated types (the first one, named)."""
    assert is_dataclass(obj)
    check_values(type(obj), {f.name: getattr(obj, f.name) for f in fields(obj)}, where)
