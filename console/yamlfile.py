"""YAML that remembers where things came from, and a reader that validates it key by key.

Every mapping and sequence loaded here knows the line of each of its entries, so an error names the file,
the line and the dotted key (`pipelines[2].stages[3].actions[0].duration`). Loading uses `yaml.SafeLoader`
only; duplicate keys are errors, not silent overwrites.

A definitions file is not trusted and a config file may be a mistake, so loading is bounded: at most
`MAX_BYTES` are read (`--config /dev/zero` ends at once), nesting deeper than `MAX_DEPTH` is refused where it
starts, and so is a document that aliases would expand to more than `MAX_VALUES` values (a "billion laughs"
bomb is a few hundred bytes). Errors quote at most a short prefix of a value (`quoted`).
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml

from console.errors import InputError

T = TypeVar("T")

MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
# Without aliases, MAX_BYTES already bounds a document (a 2,000-pipeline generated fleet is 1 MB, 125,000 values);
# this bound is for aliases, which a bomb multiplies into billions.
MAX_VALUES = 500_000
QUOTE_CHARS = 60


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, knowing that LocatedMap and LocatedList are a dict and a list (reprlib would
    otherwise call the full, unbounded `repr` of a subclass and cut it afterwards)."""

    def repr_LocatedMap(self, value: dict[Any, Any], level: int) -> str:  # noqa: N802 - reprlib's naming
        return self.repr_dict(value, level)

    def repr_LocatedList(self, value: list[Any], level: int) -> str:  # noqa: N802 - reprlib's naming
        return self.repr_list(value, level)


_QUOTE = _ShortRepr()
_QUOTE.maxstring = QUOTE_CHARS
_QUOTE.maxother = QUOTE_CHARS
_QUOTE.maxlevel = 2
_QUOTE.maxlist = _QUOTE.maxdict = _QUOTE.maxtuple = _QUOTE.maxset = 4


def quoted(value: object) -> str:
    """`repr(value)` cut to a short prefix, in bounded time however large or aliased the value is."""
    text = _QUOTE.repr(value)
    return text if len(text) <= QUOTE_CHARS + 10 else text[: QUOTE_CHARS + 9] + "…"


class LocatedMap(dict[Any, Any]):
    """A mapping from YAML with the line of the mapping and of each key."""

    line: int = 0
    lines: dict[Any, int]

    def __init__(self) -> None:
        super().__init__()
        self.lines = {}


class LocatedList(list[Any]):
    """A sequence from YAML with the line of the sequence and of each item."""

    line: int = 0
    lines: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.lines = []


class _LocatedLoader(yaml.SafeLoader):
    """SafeLoader that builds LocatedMap / LocatedList, refuses duplicate keys, and bounds the document.

    Each collection node is measured as it is composed (its children, aliased ones included, are measured
    already): how many values it stands for once aliases are expanded, and how deep it goes. So a bomb or a
    deep chain of aliases is refused before anything walks it, and the composer's own recursion is cut at
    `MAX_DEPTH` before Python's limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._measures: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_sequence_node(self, anchor: Any) -> yaml.SequenceNode:
        node = super().compose_sequence_node(anchor)
        self._measure(node, node.value)
        return node

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        self._measure(node, [part for pair in node.value for part in pair])
        return node

    def _measure(self, node: yaml.Node, children: list[yaml.Node]) -> None:
        values, depth = 1, 0
        for child in children:
            child_values, child_depth = self._measures.get(id(child), (1, 0))
            values += child_values
            depth = max(depth, child_depth)
        depth += 1
        if values > MAX_VALUES:
            raise yaml.composer.ComposerError(
                None, None, f"expands to more than {MAX_VALUES} values (aliases repeat what they name)", node.start_mark
            )
        if depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels (through aliases)", node.start_mark
            )
        self._measures[id(node)] = (values, depth)


def _construct_map(loader: _LocatedLoader, node: yaml.MappingNode) -> LocatedMap:
    loader.flatten_mapping(node)
    result = LocatedMap()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {quoted(key)} (first given on line {result.lines[key]})",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_list(loader: _LocatedLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList()
    result.line = node.start_mark.line + 1
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.lines.append(item.start_mark.line + 1)
    return result


_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)

# CloudFormation's short forms (`!Ref Role`, `!GetAtt Role.Arn`, `!Sub ...`) in a template given as a
# definitions input: each becomes the long form it stands for (`{"Ref": "Role"}`), plain data that
# console/sandbox/fleet/declarations.py resolves. Any other tag stays an error, as in safe_load.
CLOUDFORMATION_TAGS = ("Ref", "Condition") + tuple(
    f"Fn::{name}"
    for name in ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select", "Split",
                 "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Length", "ToJsonString")
)  # fmt: skip


def _construct_cloudformation(loader: _LocatedLoader, suffix: str, node: yaml.Node) -> LocatedMap:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name not in CLOUDFORMATION_TAGS:
        raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{suffix}", node.start_mark)
    value: Any
    if isinstance(node, yaml.MappingNode):
        value = _construct_map(loader, node)
    elif isinstance(node, yaml.SequenceNode):
        value = _construct_list(loader, node)
    else:
        value = loader.construct_scalar(node)  # type: ignore[arg-type]
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    result = LocatedMap()
    result.line = node.start_mark.line + 1
    result[name] = value
    result.lines[name] = result.line
    return result


_LocatedLoader.add_multi_constructor("!", _construct_cloudformation)


def load_text(text: str, file: str) -> Any:
    """Parse YAML text; a syntax error becomes an InputError naming `file` and the line."""
    try:
        return yaml.load(text, Loader=_LocatedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:
            # "while parsing a flow sequence" + where it began: often where the mistake really is.
            started = exc.context_mark.line + 1 if exc.context_mark is not None else None
            if started is not None and started != line:
                problem += f" ({exc.context} that starts on line {started})"
            else:
                problem += f" ({exc.context})"
        raise InputError(file, line, None, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(file, None, None, f"invalid YAML: {exc}") from None


def load_file(path: Path, display: str | None = None) -> Any:
    """Read (at most `MAX_BYTES`) and parse a YAML file. `display` is how the file is named in errors (default:
    the path)."""
    name = display or str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(name, None, None, "no such file") from None
    except OSError as exc:
        raise InputError(name, None, None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputError(name, None, None, f"larger than {MAX_BYTES // (1024 * 1024)} MiB; not read further")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, None, None, f"not UTF-8 text (byte {exc.start})") from None
    return load_text(text, name)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float | None:
    """`90`, `90s`, `1.5m`, `2h`, `7d` → seconds; None when it is not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    return None


class Reader:
    """Validating view over one mapping of a YAML file.

    Ask for each key with its expected type; `done()` then rejects any key nobody asked for. Every
    problem is an InputError with the file, the line of the key and its dotted path.
    """

    def __init__(self, file: str, data: Any, path: str = "", line: int | None = None) -> None:
        self.file = file
        self.path = path
        if not isinstance(data, dict):
            raise InputError(
                file, getattr(data, "line", line), path or None, f"expected a mapping, got {_describe(data)}"
            )
        self.data: dict[Any, Any] = data
        # The line of the key that holds this mapping, when known: `Deploy:` rather than its first entry.
        self.line = line if line is not None else getattr(data, "line", None)
        self._seen: set[Any] = set()

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int | None:
        lines = getattr(self.data, "lines", {})
        return lines.get(key, self.line)

    def error(self, key: str | None, problem: str) -> InputError:
        if key is None:
            return InputError(self.file, self.line, self.path or None, problem)
        return InputError(self.file, self.line_of(key), self.key_path(key), problem)

    def has(self, key: str) -> bool:
        return key in self.data

    def keys(self) -> list[str]:
        """The keys of this mapping in file order; a key that is not a string is an error."""
        for key in self.data:
            if not isinstance(key, str):
                line = getattr(self.data, "lines", {}).get(key, self.line)
                raise InputError(self.file, line, self.path or None, f"key {quoted(key)} must be a string")
        return list(self.data)

    def _get(self, key: str, kind: type[T] | tuple[type, ...], what: str, required: bool) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                raise self.error(None, f"missing required key '{key}'")
            return None
        value = self.data[key]
        if value is None and not required:
            return None
        if isinstance(value, bool) and kind is not bool:
            raise self.error(key, f"expected {what}, got {_describe(value)}")
        if not isinstance(value, kind):
            raise self.error(key, f"expected {what}, got {_describe(value)}")
        return value

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._get(key, str, "a string", required)
        if isinstance(value, str) and not value.strip():
            raise self.error(key, "must not be empty")
        return default if value is None else value

    def req_string(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None
        return value

    def integer(
        self, key: str, default: int | None = None, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self._get(key, int, "a whole number", False)
        if value is None:
            return default
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {quoted(value)}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {quoted(value)}")
        return int(value)

    def boolean(self, key: str, default: bool = False) -> bool:
        value = self._get(key, bool, "true or false", False)
        return default if value is None else bool(value)

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        value = self._get(key, (int, float), "a number", False)
        if value is None:
            return default
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum:g}, got {quoted(value)}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum:g}, got {quoted(value)}")
        return float(value)

    def duration(
        self, key: str, default: float | None = None, *, minimum: float = 0.0, maximum: float | None = None
    ) -> float | None:
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        seconds = parse_duration(self.data[key])
        if seconds is None:
            raise self.error(key, f"expected a duration such as 30, 30s, 5m, 2h or 7d, got {quoted(self.data[key])}")
        if seconds < minimum:
            raise self.error(key, f"must be at least {_seconds(minimum)}, got {quoted(self.data[key])}")
        if maximum is not None and seconds > maximum:
            raise self.error(key, f"must be at most {_seconds(maximum)}, got {quoted(self.data[key])}")
        return seconds

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        self._seen.add(key)
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or value not in choices:
            raise self.error(key, f"expected one of {', '.join(choices)}, got {quoted(value)}")
        return value

    def mapping(self, key: str, *, required: bool = False) -> Reader | None:
        value = self._get(key, dict, "a mapping", required)
        if value is None:
            if required and key in self.data:
                raise self.error(key, "expected a mapping, got nothing")
            return None
        return Reader(self.file, value, self.key_path(key), self.line_of(key))

    def req_mapping(self, key: str) -> Reader:
        reader = self.mapping(key, required=True)
        assert reader is not None
        return reader

    def string_map(self, key: str) -> dict[str, str]:
        value = self._get(key, dict, "a mapping of names to strings", False)
        if value is None:
            return {}
        result: dict[str, str] = {}
        sub = Reader(self.file, value, self.key_path(key), self.line_of(key))
        for name, item in value.items():
            if not isinstance(name, str):
                raise sub.error(None, f"key {quoted(name)} must be a string")
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise sub.error(name, f"expected a string, got {_describe(item)}")
            result[name] = str(item)
            sub._seen.add(name)
        return result

    def items(self, key: str, *, required: bool = False) -> Iterator[tuple[str, int | None, Any]]:
        """Yield (dotted path, line, value) for each item of a sequence."""
        value = self._get(key, list, "a list", required)
        if value is None:
            return
        lines = getattr(value, "lines", [])
        for index, item in enumerate(value):
            line = lines[index] if index < len(lines) else self.line_of(key)
            yield f"{self.key_path(key)}[{index}]", line, item

    def readers(self, key: str, *, required: bool = False) -> Iterator[Reader]:
        for path, line, item in self.items(key, required=required):
            yield Reader(self.file, item, path, line)

    def strings(self, key: str) -> list[str]:
        result = []
        for path, line, item in self.items(key):
            if not isinstance(item, str) or not item:
                raise InputError(self.file, line, path, f"expected a string, got {_describe(item)}")
            result.append(item)
        return result

    def raw(self, key: str) -> Any:
        self._seen.add(key)
        return self.data.get(key)

    def done(self) -> None:
        """Reject the keys nobody asked for (typos, settings of another version)."""
        for key in self.data:
            if key not in self._seen:
                known = sorted(str(k) for k in self._seen)
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                if close:
                    hint = f"did you mean '{close[0]}'?"
                elif len(known) <= 15:
                    hint = f"known keys here: {', '.join(known)}"
                else:
                    hint = "see the README's Definitions section for the keys allowed here"
                raise self.error(str(key), f"unknown key ({hint})")

    def check(self, key: str, ok: Callable[[], bool], problem: str) -> None:
        if not ok():
            raise self.error(key, problem)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    return quoted(value)
