"""The compiled URI router: maps a request path to a target and its field values.

Templates are parsed, checked and compiled when they are added, so that
:meth:`CompiledRouter.find`, which runs once per request, does as little as
possible: a template without fields is found with one ``dict`` lookup, and the
rest through a tree of path segments whose nodes hold a ``dict`` of literal
children and a short, pre-sorted tuple of field children. The router knows
nothing about resources or HTTP methods; the App stores whatever it likes as
the target.

Precedence, at each segment from left to right: a literal segment, then a
segment mixing literal text and fields, then a typed field (``int``,
``float``, ``uuid``), then a plain field, then a ``path`` field. When a
branch fails further on (including a converter refusing the text) the search
backtracks and tries the next candidate.

Paths come from outsiders, so a lookup takes time linear in the path's length
for every template this router accepts: each node of the tree is visited at most
once per lookup, and each candidate at a node does work linear in its segment
(segments mixing text and fields are split by :mod:`lanner._segment`, without
regular-expression backtracking).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from lanner._converters import PATH, Converter, build_converter
from lanner._segment import SegmentSplitter

__all__ = ["CompiledRouter", "RouteConflictError"]

T = TypeVar("T")

_Convert = Callable[[str], Any]
_Split = Callable[[str], "list[Any] | None"]
_FIELD: Final = re.compile(r"\{([^{}]*)\}")


class RouteConflictError(ValueError):
    """A template matches exactly the paths that an earlier template matches.

    Two templates conflict when they have the same shape once field names are
    ignored (``/a/{id}`` and ``/a/{name}``) or are identical. Converter names
    count as shape (``/a/{id:int}`` and ``/a/{name}`` may coexist) but their
    arguments do not (``/a/{n:int(min=1)}`` conflicts with ``/a/{n:int}``).

    Attributes:
        template: The template that was being added.
        existing: The template added earlier that it conflicts with.
    """

    def __init__(self, template: str, existing: str) -> None:
        self.template = template
        self.existing = existing
        if template == existing:
            problem = f"the template {existing!r} was already added. Add each route once"
        else:
            problem = (
                f"it matches the same paths as {existing!r}, which was added before "
                "(templates that differ only in field names, or in converter arguments, "
                "are the same route). Remove one of them, or make them differ in a "
                "literal segment or a converter name"
            )
        super().__init__(f"Cannot add the route {template!r}: {problem}.")


class _Leaf(Generic[T]):
    """The end of a template: what :meth:`CompiledRouter.find` returns for it."""

    __slots__ = ("params", "target", "template")

    def __init__(self, target: T, template: str, names: tuple[str, ...]) -> None:
        self.target = target
        self.template = template
        self.params = _params_builder(names)


def _params_builder(names: tuple[str, ...]) -> Callable[[list[Any]], dict[str, Any]]:
    """Return a function pairing ``names`` with matched values, in order, as a dict.

    PERF: a dict display over closure variables is about 2.5 times as fast as
    ``dict(zip(names, values))``, and most templates have one to three fields.
    """
    if len(names) == 1:
        (a,) = names
        return lambda values: {a: values[0]}
    if len(names) == 2:
        a, b = names
        return lambda values: {a: values[0], b: values[1]}
    if len(names) == 3:
        a, b, c = names
        return lambda values: {a: values[0], b: values[1], c: values[2]}
    return lambda values: dict(zip(names, values, strict=True))


class _Node(Generic[T]):
    """One position in the segment tree.

    The public attributes are read per request and kept in the shape
    :func:`_match` wants; ``_children`` and ``_fields`` exist only to build them.

    Attributes:
        literals: Child per literal segment text.
        compound: ``(splitter, child)`` per segment mixing literal text and
            fields, in the order added; the split function returns the converted
            field values or ``None``.
        fields: ``(convert, child)`` per whole-segment field except ``tail``;
            ``convert`` is ``None`` for a plain field.
        tail: The last field candidate when no ``path`` field follows it. PERF:
            the matcher moves into it without recursing, as nothing is left to
            try if it fails.
        literal_only: No candidate but ``literals``, so the matcher can walk on.
        leaf: The route that ends here.
        rest: The route whose ``path`` field takes everything from here on.
    """

    __slots__ = (
        "_children",
        "_fields",
        "compound",
        "fields",
        "leaf",
        "literal_only",
        "literals",
        "rest",
        "tail",
    )

    def __init__(self) -> None:
        self.literals: dict[str, _Node[T]] = {}
        self.compound: tuple[tuple[_Split, _Node[T]], ...] = ()
        self.fields: tuple[tuple[_Convert | None, _Node[T]], ...] = ()
        self.tail: tuple[_Convert | None, _Node[T]] | None = None
        self.literal_only = True
        self.leaf: _Leaf[T] | None = None
        self.rest: _Leaf[T] | None = None
        self._children: dict[object, _Node[T]] = {}
        self._fields: list[tuple[_Convert | None, _Node[T]]] = []

    def field_child(self, converter: Converter | None) -> _Node[T]:
        """Return the child for a whole-segment field with ``converter``, adding it if new."""
        key = "" if converter is None else converter.key
        node = self._children.get(key)
        if node is None:
            node = self._children[key] = _Node()
            self._fields.append((None if converter is None else converter.convert, node))
            # sort() is stable, so typed fields come first and each group keeps
            # the order its routes were added in.
            self._fields.sort(key=lambda edge: edge[0] is None)
            self._refresh()
        return node

    def compound_child(self, parts: tuple[str | _Field, ...]) -> _Node[T]:
        """Return the child for a segment mixing literal text and fields, adding it if new."""
        key = tuple(
            part if isinstance(part, str) else ("", part.converter.key if part.converter else "")
            for part in parts
        )
        node = self._children.get(key)
        if node is None:
            node = self._children[key] = _Node()
            self.compound = (*self.compound, (_splitter(parts).matcher(), node))
            self._refresh()
        return node

    def set_rest(self, leaf: _Leaf[T]) -> None:
        """Make ``leaf`` the route that takes the rest of the path from here."""
        self.rest = leaf
        self._refresh()

    def _refresh(self) -> None:
        fields = tuple(self._fields)
        if fields and self.rest is None:
            self.fields, self.tail = fields[:-1], fields[-1]
        else:
            self.fields, self.tail = fields, None
        self.literal_only = not (self.compound or fields or self.rest)


class _Field:
    """One ``{name}`` or ``{name:converter(args)}`` of a template."""

    __slots__ = ("converter", "name", "spec")

    def __init__(self, name: str, spec: str, converter: Converter | None) -> None:
        self.name = name
        self.spec = spec  # converter name: part of the route's shape
        self.converter = converter


_Segment = str | _Field | tuple[str | _Field, ...]
"""A parsed segment: literal text, a whole-segment field, or literal text mixed with fields."""


class CompiledRouter(Generic[T]):
    """Maps request paths to targets through URI templates such as ``/items/{id:int}``.

    Add every route with :meth:`add` while the app is assembled, then call
    :meth:`find` per request. Paths are matched exactly as given: no trailing
    slash is stripped and nothing is decoded (ASGI paths arrive decoded).
    """

    __slots__ = ("_root", "_shapes", "_static", "_templates")

    def __init__(self) -> None:
        self._static: dict[str, tuple[T, str]] = {}
        self._root: _Node[T] = _Node()
        self._shapes: dict[tuple[object, ...], str] = {}
        self._templates: list[str] = []

    @property
    def templates(self) -> list[str]:
        """The templates added so far, in the order they were added (a copy)."""
        return list(self._templates)

    def add(self, uri_template: str, target: T) -> None:
        """Add a route from ``uri_template`` to ``target``.

        Args:
            uri_template: A path starting with ``/`` whose segments are literal
                text, fields (``{name}``, ``{name:converter}``,
                ``{name:converter(arg=value, ...)}``), or both
                (``{name}.{ext}``). A ``{name:path}`` field may only be the
                whole last segment.
            target: What :meth:`find` returns for a matching path.

        Raises:
            ValueError: The template is malformed, or names an unknown converter
                or bad converter arguments; the message quotes the template.
            RouteConflictError: The template matches the same paths as one
                added before; the message names both.
        """
        segments = _parse(uri_template)
        shape = tuple(_shape_of(segment) for segment in segments)
        existing = self._shapes.get(shape)
        if existing is not None:
            raise RouteConflictError(uri_template, existing)

        names: list[str] = []
        node = self._root
        last = len(segments) - 1
        for index, segment in enumerate(segments):
            if isinstance(segment, str):
                child = node.literals.get(segment)
                if child is None:
                    child = node.literals[segment] = _Node()
                node = child
            elif isinstance(segment, _Field):
                names.append(segment.name)
                if segment.spec == PATH:
                    # _parse guarantees a path field is the whole last segment.
                    assert index == last
                    break
                node = node.field_child(segment.converter)
            else:
                names.extend(part.name for part in segment if isinstance(part, _Field))
                node = node.compound_child(segment)

        if not names:
            self._static[uri_template] = (target, uri_template)
        elif _is_path_field(segments[-1]):
            node.set_rest(_Leaf(target, uri_template, tuple(names)))
        else:
            node.leaf = _Leaf(target, uri_template, tuple(names))
        self._shapes[shape] = uri_template
        self._templates.append(uri_template)

    def find(self, path: str) -> tuple[T, dict[str, Any], str] | None:
        """Return the route for ``path``: ``(target, field values, template)``, or ``None``.

        ``path`` is matched as given: it is not decoded or normalised, and a
        trailing slash counts. Field values are already converted (``{id:int}``
        gives an ``int``). A converter that refuses the text makes that route
        not match, so the result may be ``None``; ``find`` never raises for a
        path. The params dict is new on every call, so the caller may change it.
        """
        hit = self._static.get(path)
        if hit is not None:
            return hit[0], {}, hit[1]
        segments = path.split("/")
        if segments[0]:  # not starting with '/'
            return None
        values: list[Any] = []
        leaf = _match(self._root, segments, 1, len(segments), values)
        if leaf is None:
            return None
        return leaf.target, leaf.params(values), leaf.template


def _match(
    node: _Node[T], segments: list[str], index: int, end: int, values: list[Any]
) -> _Leaf[T] | None:
    """Depth-first search from ``node`` for ``segments[index:]``, collecting field values.

    On failure ``values`` may hold leftovers; the caller truncates it. PERF:
    this is the per-request hot path. It recurses only where a later candidate
    remains to be tried, and walks on in a loop otherwise (the usual case), and
    it visits each node of the tree at most once per search.
    """
    while True:
        if index == end:
            return node.leaf
        segment = segments[index]
        index += 1
        child = node.literals.get(segment)
        # Fields never match an empty segment, so then only a literal '' can.
        if node.literal_only or not segment:
            if child is None:
                return None
            node = child
            continue
        mark = len(values)
        if child is not None:
            found = _match(child, segments, index, end, values)
            if found is not None:
                return found
            del values[mark:]
        for split, child in node.compound:
            fields = split(segment)
            if fields is None:
                continue
            values += fields
            found = _match(child, segments, index, end, values)
            if found is not None:
                return found
            del values[mark:]
        for convert, child in node.fields:
            if convert is None:
                values.append(segment)
            else:
                value = convert(segment)
                if value is None:
                    continue
                values.append(value)
            found = _match(child, segments, index, end, values)
            if found is not None:
                return found
            del values[mark:]
        if node.tail is not None:
            convert, node = node.tail
            if convert is None:
                values.append(segment)
            else:
                value = convert(segment)
                if value is None:
                    return None
                values.append(value)
            continue
        if node.rest is not None:
            values.append("/".join(segments[index - 1 :]))
            return node.rest
        return None


def _splitter(parts: tuple[str | _Field, ...]) -> SegmentSplitter:
    """Return the splitter for a segment mixing literal text and fields."""
    literals = [""]
    converters: list[Converter | None] = []
    for part in parts:
        if isinstance(part, str):
            literals[-1] = part
        else:
            converters.append(part.converter)
            literals.append("")
    return SegmentSplitter(literals, converters)


def _shape_of(segment: _Segment) -> object:
    """Return what decides whether two templates conflict: everything but names and arguments."""
    if isinstance(segment, str):
        return segment
    if isinstance(segment, _Field):
        return (segment.spec,)
    return tuple(part if isinstance(part, str) else (part.spec,) for part in segment)


def _malformed(template: str, problem: str) -> ValueError:
    return ValueError(f"Invalid URI template {template!r}: {problem}")


def _parse(template: str) -> list[_Segment]:
    """Split ``template`` into segments and check it, raising ``ValueError`` if malformed."""
    if not isinstance(template, str):
        raise TypeError(
            f"A URI template must be a str, such as '/items/{{item_id:int}}'; "
            f"found {type(template).__name__} {template!r}"
        )
    if not template.startswith("/"):
        raise _malformed(template, f"it must start with '/'; write '/{template}'")
    if "?" in template or "#" in template:
        raise _malformed(
            template,
            "it contains '?' or '#', but routes match the path only; "
            "read query parameters from the request instead",
        )
    raw = template[1:].split("/")
    segments: list[_Segment] = []
    names: set[str] = set()
    for position, text in enumerate(raw):
        if not text and position != len(raw) - 1:
            raise _malformed(template, "it has an empty segment ('//'); remove the extra '/'")
        segment = _parse_segment(template, text, names)
        is_last = position == len(raw) - 1
        if not is_last and _is_path_field(segment):
            raise _malformed(
                template,
                "a 'path' field must be the last segment, because it takes the rest "
                "of the path; move it to the end, as in '/static/{file:path}'",
            )
        segments.append(segment)
    return segments


def _is_path_field(segment: _Segment) -> bool:
    return isinstance(segment, _Field) and segment.spec == PATH


def _parse_segment(template: str, text: str, names: set[str]) -> _Segment:
    """Parse one segment: literal text, a whole field, or a mix; records field names."""
    parts: list[str | _Field] = []
    position = 0
    for match in _FIELD.finditer(text):
        literal = text[position : match.start()]
        _check_literal(template, literal)
        if literal:
            parts.append(literal)
        elif parts and isinstance(parts[-1], _Field):
            raise _malformed(
                template,
                f"fields {{{parts[-1].name}}} and {match.group()} touch, so where one ends "
                "is ambiguous; put literal text between them, such as "
                f"'{{{parts[-1].name}}}-{match.group()}'",
            )
        parts.append(_parse_field(template, match.group(1), names))
        position = match.end()
    tail = text[position:]
    _check_literal(template, tail)
    if tail:
        parts.append(tail)
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if any(_is_path_field(part) for part in parts):
        raise _malformed(
            template,
            "a 'path' field must be a whole segment, not mixed with literal text or "
            "other fields; write it as '/prefix/{file:path}'",
        )
    return tuple(parts)


def _check_literal(template: str, literal: str) -> None:
    if "{" in literal or "}" in literal:
        raise _malformed(
            template,
            f"it has an unbalanced '{{' or '}}' in {literal!r}; every field is "
            "written '{name}' or '{name:converter}' and fields cannot nest",
        )


def _parse_field(template: str, body: str, names: set[str]) -> _Field:
    """Parse the text between the braces of one field."""
    name, colon, spec = body.partition(":")
    if not name.isidentifier() or keyword.iskeyword(name):
        raise _malformed(
            template,
            f"the field name {name!r} in {{{body}}} is not a valid Python identifier "
            "(it becomes a keyword argument of the responder); use letters, digits "
            "and '_', not starting with a digit, such as {item_id}",
        )
    if name in names:
        raise _malformed(
            template,
            f"the field name {name!r} appears more than once; give each field its own name",
        )
    names.add(name)
    if not colon:
        return _Field(name, "", None)
    converter_name, paren, arguments = spec.partition("(")
    if paren and not arguments.endswith(")"):
        raise _malformed(
            template, f"the converter in {{{body}}} has no closing ')'; add it before '}}'"
        )
    if not converter_name:
        raise _malformed(
            template,
            f"{{{body}}} has ':' but no converter name after it; write "
            f"{{{name}:int}} or drop the ':'",
        )
    if converter_name == PATH:
        if paren:
            raise _malformed(template, f"the converter in {{{body}}}: path takes no arguments")
        return _Field(name, PATH, None)
    try:
        converter = build_converter(converter_name, arguments[:-1] if paren else None)
    except ValueError as exc:
        raise _malformed(template, f"the converter in {{{body}}}: {exc}") from None
    return _Field(name, converter_name, converter)
