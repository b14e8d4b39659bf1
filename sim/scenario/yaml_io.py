"""The one YAML reader and writer of Ripple: scenarios, experiment files and ``--set`` values.

Input is untrusted (a file from anywhere, an upload in the app), so the reader is hardened before it
builds any Python object:

- **YAML 1.2 core scalars.** Only ``true``/``false`` are booleans, only ``null``/``~``/nothing is
  null, and ``1e5`` is a number. YAML 1.1's traps are gone: ``yes``, ``no``, ``on`` and ``off`` are
  words (``loyalty.membership: off`` means the word ``off``), ``010`` is ten, ``1:30`` is text and
  dates stay text. (Numbers may carry ``_`` between digits: ``1_000_000``.)
- **Aliases** (``*name``) may add at most :data:`MAX_ALIAS_NODES` nodes in total by repeating what
  their anchor holds, and may not refer to a node that contains them: a 500-byte "alias bomb" that
  expands to hundreds of millions of items is refused in milliseconds, before anything is built.
- **Nesting** deeper than :data:`MAX_DEPTH` levels is refused (a scenario needs four).
- **Duplicate keys** are refused, naming both lines (YAML parsers silently keep the last one).
- **Whole numbers** of more than :data:`MAX_INT_DIGITS` digits are refused (Python cannot even turn
  one of more than 4,300 digits into a number without a special setting).

Every refusal is a :class:`~sim.scenario.errors.ScenarioError` naming the line.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sim.scenario.errors import Problem, ScenarioError

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_INT_DIGITS", "dump_yaml", "parse_yaml"]

#: Most nodes that aliases may add by repeating their anchor's content, over the whole document. Real
#: scenarios use a handful (a tier reused); an alias bomb needs millions.
MAX_ALIAS_NODES = 10_000
#: Deepest nesting of mappings and lists accepted. A scenario nests four levels
#: (``loyalty.tiers[0].name``); deeper input would only make the validators and messages recurse.
MAX_DEPTH = 40
#: Most digits of a whole number: 19 hold any 64-bit integer; a hundred leave room for any typo.
MAX_INT_DIGITS = 100

_INT = re.compile(r"^(?:[-+]?[0-9]+(?:_[0-9]+)*|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:_[0-9]+)*(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Resolver(yaml.resolver.BaseResolver):
    """Implicit tags of plain scalars, YAML 1.2 core schema (plus ``_`` digit separators and merges)."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Resolver.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe construction with YAML 1.2 numbers: ``010`` is ten, not eight."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        value = str(self.construct_scalar(node)).replace("_", "")
        if len(value) > MAX_INT_DIGITS:  # explicit !!int tags reach here without the tree check
            raise yaml.constructor.ConstructorError(
                None, None, f"a whole number may have at most {MAX_INT_DIGITS} digits", node.start_mark
            )
        sign = -1 if value.startswith("-") else 1
        digits = value.lstrip("+-")
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = str(self.construct_scalar(node)).replace("_", "").lower()
        if value.lstrip("+-") == ".inf":
            return float("-inf") if value.startswith("-") else float("inf")
        if value == ".nan":
            return float("nan")
        return float(value)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)  # type: ignore[type-var]

#: libyaml's parser (about 8x faster than pure Python, and it caps nesting itself), when PyYAML has it.
_CParser: Any = (
    getattr(importlib.import_module("yaml._yaml"), "CParser", None) if yaml.__with_libyaml__ else None
)

if _CParser is not None:

    class _Loader(_CParser, _Constructor, _Resolver):
        def __init__(self, stream: str | bytes) -> None:
            _CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

else:  # pragma: no cover - PyYAML wheels ship libyaml

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        _Constructor,
        _Resolver,
    ):
        def __init__(self, stream: str | bytes) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            _Constructor.__init__(self)
            _Resolver.__init__(self)


class _Dumper(yaml.SafeDumper):
    """Safe dumping that quotes every string the reader would take for something else (``"1e5"``).

    The reader's implicit resolvers decide which plain scalars need quotes.
    """

    yaml_implicit_resolvers = _Resolver.yaml_implicit_resolvers


def dump_yaml(data: Any, **kwargs: Any) -> str:
    """``data`` as YAML text that :func:`parse_yaml` reads back equal (``yaml.safe_dump``'s options)."""
    return str(yaml.dump(data, Dumper=_Dumper, **kwargs))


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _children_at(node: Node, where: str) -> list[tuple[Node, str]]:
    """A node's children with the dotted path of each (for messages), last child first."""
    if isinstance(node, SequenceNode):
        return [(child, f"{where}[{i}]") for i, child in reversed(list(enumerate(node.value)))]
    if isinstance(node, MappingNode):
        out: list[tuple[Node, str]] = []
        for key, value in reversed(node.value):
            name = str(key.value) if isinstance(key, ScalarNode) else "?"
            out.append((value, f"{where}.{name}" if where else name))
            out.append((key, where))
        return out
    return []


def _refuse(where: str, allowed: str, given: str, source: str | None) -> ScenarioError:
    return ScenarioError([Problem(where, allowed, given)], source)


def _duplicate_keys(node: MappingNode, where: str, source: str | None) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key, _value in node.value:
        if not isinstance(key, ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        identity = (key.tag, key.value)
        if identity in seen:
            path = f"{where}.{key.value}" if where else str(key.value)
            raise _refuse(
                path,
                f"is given twice (lines {seen[identity]} and {_line(key)}); YAML would silently keep the "
                "last one: keep one of them",
                "",
                source,
            )
        seen[identity] = _line(key)


def _check_tree(root: Node, source: str | None) -> None:
    """Refuse alias bombs, recursive aliases, deep nesting, duplicate keys and huge integers.

    One iterative pass over the distinct nodes (aliases share nodes, so a bomb costs only its few
    distinct nodes): each node's size *after* expanding aliases is computed from its children's.
    """
    done: dict[int, int] = {}  # id(node) → number of nodes in it once aliases are expanded
    open_nodes: set[int] = set()  # nodes on the current path (an alias to one of them is a cycle)
    stack: list[tuple[Node, list[tuple[Node, str]]]] = []
    distinct = 0

    def enter(node: Node, where: str) -> None:
        nonlocal distinct
        distinct += 1
        if len(stack) >= MAX_DEPTH:
            raise _refuse(
                f"line {_line(node)}", f"must nest at most {MAX_DEPTH} levels deep", "deeper nesting", source
            )
        if isinstance(node, ScalarNode):
            if node.tag == "tag:yaml.org,2002:int" and len(node.value.replace("_", "")) > MAX_INT_DIGITS + 1:
                raise _refuse(
                    f"line {_line(node)}",
                    f"a whole number may have at most {MAX_INT_DIGITS} digits",
                    f"{len(node.value):,} digits",
                    source,
                )
            done[id(node)] = 1
            return
        if isinstance(node, MappingNode):
            _duplicate_keys(node, where, source)
        open_nodes.add(id(node))
        stack.append((node, _children_at(node, where)))

    enter(root, "")
    while stack:
        node, pending = stack[-1]
        if pending:
            child, child_where = pending.pop()
            if id(child) in done:
                continue  # an alias to a finished node: its size is known
            if id(child) in open_nodes:
                raise _refuse(
                    f"line {_line(child)}",
                    "an alias must not refer to a node that contains it (a recursive structure)",
                    "",
                    source,
                )
            enter(child, child_where)
            continue
        stack.pop()
        open_nodes.discard(id(node))
        done[id(node)] = 1 + sum(done[id(child)] for child in _children(node))
    expanded = done[id(root)]
    if expanded - distinct > MAX_ALIAS_NODES:
        raise _refuse(
            "(aliases)",
            f"aliases (*name) may repeat at most {MAX_ALIAS_NODES:,} nodes in total",
            f"aliases that expand to {expanded:,} nodes",
            source,
        )


def parse_yaml(text: str | bytes, source: str | None = None) -> Any:
    """Parse one YAML document safely (see the module docstring for what is refused).

    Raises:
        ScenarioError: naming the line, for a syntax or encoding error, an alias bomb, a recursive
            alias, nesting deeper than :data:`MAX_DEPTH`, a duplicate key or a huge whole number.
    """
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_tree(node, source)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "file"
        reason = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
        raise ScenarioError([Problem(where, "must be valid YAML", str(reason))], source) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem("", "must be UTF-8 text", "binary data")], source) from None
    except ScenarioError:
        raise
    except (RecursionError, MemoryError, ValueError) as exc:
        # Belt and braces: the tree check above should make these unreachable.
        raise ScenarioError(
            [Problem("file", "must be a YAML document Ripple can read", type(exc).__name__)], source
        ) from None
