"""Read the config file: YAML with line numbers, validation, and every problem turned into one
line that names its path in the file (`slas[2].deadline: "7am" is not HH:MM (line 14)`)."""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.config import checks
from bot.config.model import Config
from bot.config.parsing import _show
from bot.config.secrets import Secrets, find_secrets
from bot.errors import UserError

Path_ = tuple[str | int, ...]


class ConfigError(UserError):
    """The config file cannot be used; the message lists every problem, one per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"{source}: {count}\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class Problem:
    path: Path_
    message: str
    line: int | None = None

    def render(self) -> str:
        where = f" (line {self.line})" if self.line is not None else ""
        return f"{format_path(self.path) or '(top level)'}: {self.message}{where}"


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.match(r"^[A-Za-z_][\w\-]*$", part):
            out += f".{part}" if out else part
        else:
            out += f"[{_show(part)}]"
    return out


# --- YAML ----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers: unquoted `7:30` must stay the text
    "7:30" (a deadline), not the integer 450."""


_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass
class _Parsed:
    data: Any
    lines: dict[Path_, int]  # path -> 1-based line of its value
    key_lines: dict[Path_, int]  # path -> 1-based line of its key
    problems: list[Problem]


def _parse_yaml(text: str, source: str) -> _Parsed | str:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return f"{source}: the file is empty; see jobs-bot.example.yml for every key"
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = e.problem or e.context or "not valid YAML"
        context = ""
        if e.context and e.context_mark and e.problem:
            at = e.context_mark
            context = f" ({e.context} that starts on line {at.line + 1}, column {at.column + 1})"
        return f"{source}: {where}YAML syntax error: {what}{context}"
    except yaml.YAMLError as e:
        return f"{source}: YAML error: {e}"
    finally:
        loader.dispose()
    parsed = _Parsed(data, {}, {}, [])
    _walk(node, (), parsed)
    return parsed


def _walk(node: yaml.Node, path: Path_, parsed: _Parsed) -> None:
    parsed.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                parsed.problems.append(
                    Problem((*path, key), f"given twice (first on line {seen[key]})", line)
                )
            seen[key] = line
            parsed.key_lines[(*path, key)] = line
            _walk(value_node, (*path, key), parsed)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), parsed)


def _line(parsed: _Parsed, path: Path_, *, key: bool = False) -> int | None:
    if key and path in parsed.key_lines:
        return parsed.key_lines[path]
    for end in range(len(path), -1, -1):
        if path[:end] in parsed.lines:
            return parsed.lines[path[:end]]
    return None


# --- validation ----------------------------------------------------------------------------

# Maps whose keys are the user's own words (tag keys, owner emails, channel keys).
_FREE_FORM = frozenset({"tag", "owners", "channels"})


def _validate(
    parsed: _Parsed, env: Mapping[str, str] | None, source: str
) -> tuple[Config | None, list[str]]:
    problems = list(parsed.problems)
    data = parsed.data
    if not isinstance(data, dict):
        return None, [f"{source}: the top level must be a mapping of sections (timezone:, ...)"]

    secret_paths: set[Path_] = set()
    for path, message in find_secrets(data, skip=_FREE_FORM):
        secret_paths.add(path)
        problems.append(Problem(path, message, _line(parsed, path, key=True)))
    data = {k: v for k, v in data.items() if k != "secrets"}

    for path, message in checks.cross_check(data, lambda p: _line(parsed, p)):
        problems.append(Problem(path, message, _line(parsed, path)))

    config = None
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden" and loc in secret_paths:
                continue
            problems.append(_from_pydantic(err, loc, parsed))

    if problems:
        return None, _render(problems)
    assert config is not None
    secrets = Secrets.from_env(os.environ if env is None else env)
    return config.model_copy(update={"secrets": secrets}), []


def _render(problems: list[Problem]) -> list[str]:
    unique = {p.render(): p for p in problems}
    ordered = sorted(unique.values(), key=lambda p: (p.line or 0, format_path(p.path)))
    return [p.render() for p in ordered]


def _from_pydantic(err: Any, loc: Path_, parsed: _Parsed) -> Problem:
    kind = err["type"]
    value = err.get("input")
    if kind == "missing":
        return Problem(loc, "missing", _line(parsed, loc[:-1]))
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        if allowed and not close:
            hint = f" (known keys: {', '.join(allowed)})"
        return Problem(loc, f"unknown key{hint}", _line(parsed, loc, key=True))
    line = _line(parsed, loc)
    if kind == "value_error":
        message = str(err["ctx"]["error"])
        return Problem(loc, message, line)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Problem(loc, f"should be a mapping of keys, not {_show(value)}", line)
    if kind in ("tuple_type", "list_type"):
        return Problem(loc, f"should be a list, not {_show(value)}", line)
    if kind == "literal_error":
        expected = err["ctx"]["expected"].replace("'", "")
        return Problem(loc, f"{_show(value)} is not one of {expected}", line)
    ctx = err.get("ctx", {})
    plain = {
        "greater_than_equal": f"is too small (at least {ctx.get('ge')})",
        "greater_than": f"is too small (more than {ctx.get('gt')})",
        "less_than_equal": f"is too large (at most {ctx.get('le')})",
        "int_parsing": "is not a whole number",
        "int_type": "is not a whole number",
        "int_from_float": "is not a whole number",
        "float_parsing": "is not a number",
        "float_type": "is not a number",
        "bool_parsing": "is not true or false",
        "bool_type": "is not true or false",
        "string_type": "is not text",
        "string_too_short": "is empty",
    }
    if kind in plain:
        return Problem(loc, f"{_show(value)} {plain[kind]}", line)
    message = err["msg"][0].lower() + err["msg"][1:]
    return Problem(loc, f"{_show(value)}: {message}", line)


def _allowed_keys(loc: Path_) -> list[str]:
    """Field names of the section at `loc`, for "did you mean" hints."""
    current: Any = Config
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            origin = typing.get_origin(current)
            if origin in (tuple, list) and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name in current.model_fields if name != "secrets"]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0] if len(options) == 1 else annotation
            if len(options) != 1:
                return annotation
        else:
            return annotation


# --- public --------------------------------------------------------------------------------


def _read(path: str | None) -> tuple[str, str | None, str | None]:
    """(source name, text, error line)."""
    if path is None:
        return (
            "config",
            None,
            "no config file given: pass --config FILE (copy jobs-bot.example.yml to start, "
            "or run `jobs-bot demo`, which brings its own)",
        )
    try:
        return path, Path(path).read_text(encoding="utf-8"), None
    except FileNotFoundError:
        return path, None, f"{path}: no such file (copy jobs-bot.example.yml to start)"
    except IsADirectoryError:
        return path, None, f"{path}: is a directory, not a config file"
    except UnicodeDecodeError:
        return path, None, f"{path}: is not UTF-8 text"
    except OSError as e:
        return path, None, f"{path}: cannot be read ({e.strerror})"


def _load(path: str | None, env: Mapping[str, str] | None) -> tuple[str, Config | None, list[str]]:
    source, text, error = _read(path)
    if error is not None or text is None:
        return source, None, [error or f"{source}: cannot be read"]
    parsed = _parse_yaml(text, source)
    if isinstance(parsed, str):
        return source, None, [parsed]
    config, problems = _validate(parsed, env, source)
    return source, config, problems


def check_file(path: str) -> list[str]:
    """Every problem in the config file at `path`, one line each; empty when it is valid.
    Secrets are not needed: this runs on a laptop."""
    return _load(path, {})[2]


def load_config(path: str | None, *, env: Mapping[str, str] | None = None) -> Config:
    """The config at `path` with secrets from `env` (default: the process environment).
    Raises ConfigError listing every problem; `None` is an error that says how to make one."""
    source, config, problems = _load(path, env)
    if problems or config is None:
        raise ConfigError(source, problems)
    return config
