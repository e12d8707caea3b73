"""The visibility query language of ``GET /workflows?query=...``: a small, safe parser. Pure.

Grammar (keywords without case; names are search attributes, system or custom)::

    query      := or
    or         := and ("OR" and)*
    and        := unary ("AND" unary)*
    unary      := "NOT" unary | "(" or ")" | predicate
    predicate  := NAME ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") literal
                | NAME ["NOT"] "IN" "(" literal ("," literal)* ")"
                | NAME ["NOT"] "BETWEEN" literal "AND" literal
                | NAME "IS" ["NOT"] "NULL"
                | NAME "CONTAINS" literal
    literal    := 'text' | "text" | number | TRUE | FALSE

Quotes inside a string are doubled (``'O''Brien'``) or backslash-escaped. The parser builds a
tree; :mod:`.filters` turns it into bound SQL parameters, so no query text ever reaches SQL.

A ``query`` that does not parse and holds none of ``= < > ! ( ) ' "`` is not this language: it
is the reference server's substring match on workflow id or business key (``query=order-42``).
One that does not parse but holds one of them is refused with the parser's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGE_MARKERS = frozenset("=<>!()'\"")
MAX_PREDICATES = 50
MAX_DEPTH = 20

Literal = str | int | float | bool


class QueryError(ValueError):
    """A query that does not parse, or names or compares something it may not."""


@dataclass(frozen=True)
class Compare:
    name: str
    op: str  # = != < <= > >= contains
    value: Literal


@dataclass(frozen=True)
class InList:
    name: str
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNull:
    name: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Compare | InList | IsNull | And | Or | Not


def is_language(text: str) -> bool:
    """Whether ``text``, which did not parse, was meant as a query (it holds an operator or a quote)."""
    return any(char in LANGUAGE_MARKERS for char in text)


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<number>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![A-Za-z0-9_]))
  | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "BETWEEN", "CONTAINS"})


@dataclass(frozen=True)
class _Token:
    kind: str  # string | number | op | name | keyword | end
    text: str
    value: Literal | None
    at: int


def _unquote(raw: str) -> str:
    quote, body = raw[0], raw[1:-1]
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


def _number(text: str) -> int | float:
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return float(text)


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None and text[at] in "'\"":
            raise QueryError(f"Invalid query: the string starting at position {at + 1} is not closed.")
        if match is None:
            raise QueryError(f"Unexpected character {text[at]!r} at position {at + 1} of the query.")
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "string":
            tokens.append(_Token("string", raw, _unquote(raw), at))
        elif kind == "number":
            tokens.append(_Token("number", raw, _number(raw), at))
        elif kind == "op":
            tokens.append(_Token("op", raw, None, at))
        elif kind == "name":
            upper = raw.upper()
            if upper in _KEYWORDS:
                value: Literal | None = {"TRUE": True, "FALSE": False}.get(upper)
                tokens.append(_Token("keyword", upper, value, at))
            else:
                tokens.append(_Token("name", raw, None, at))
        at = match.end()
    tokens.append(_Token("end", "", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.predicates = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _take(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def _is(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (text is None or token.text == text)

    def _expect(self, kind: str, text: str, what: str) -> None:
        if not self._is(kind, text):
            raise self._error(what)
        self.index += 1

    def _error(self, expected: str) -> QueryError:
        token = self.current
        found = "the end of the query" if token.kind == "end" else repr(token.text)
        return QueryError(f"Invalid query: expected {expected}, found {found} at position {token.at + 1}.")

    def parse(self) -> Node:
        node = self._or(0)
        if not self._is("end"):
            raise self._error("AND, OR or the end of the query")
        return node

    def _or(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise QueryError(f"Invalid query: nested deeper than {MAX_DEPTH} levels.")
        parts = [self._and(depth)]
        while self._is("keyword", "OR"):
            self.index += 1
            parts.append(self._and(depth))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and(self, depth: int) -> Node:
        parts = [self._unary(depth)]
        while self._is("keyword", "AND"):
            self.index += 1
            parts.append(self._unary(depth))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _unary(self, depth: int) -> Node:
        # NOT nests like '(' does: both count against MAX_DEPTH (the SQL compiler recurses).
        if depth > MAX_DEPTH:
            raise QueryError(f"Invalid query: nested deeper than {MAX_DEPTH} levels.")
        if self._is("keyword", "NOT"):
            self.index += 1
            return Not(self._unary(depth + 1))
        if self._is("op", "("):
            self.index += 1
            node = self._or(depth + 1)
            self._expect("op", ")", "')'")
            return node
        return self._predicate()

    def _literal(self) -> Literal:
        token = self.current
        if token.kind in ("string", "number") or (
            token.kind == "keyword" and token.text in ("TRUE", "FALSE")
        ):
            self.index += 1
            assert token.value is not None
            return token.value
        raise self._error("a value (a quoted string, a number, true or false)")

    def _predicate(self) -> Node:
        if not self._is("name"):
            raise self._error("a search attribute name")
        name = self._take().text
        self.predicates += 1
        if self.predicates > MAX_PREDICATES:
            raise QueryError(f"Invalid query: more than {MAX_PREDICATES} conditions.")
        token = self.current
        if token.kind == "op" and token.text in ("=", "!=", "<>", "<", "<=", ">", ">="):
            self.index += 1
            op = "!=" if token.text == "<>" else token.text
            return Compare(name, op, self._literal())
        negated = False
        if self._is("keyword", "NOT"):
            self.index += 1
            negated = True
            if not (self._is("keyword", "IN") or self._is("keyword", "BETWEEN")):
                raise self._error("IN or BETWEEN after NOT")
        if self._is("keyword", "IN"):
            self.index += 1
            self._expect("op", "(", "'(' after IN")
            values = [self._literal()]
            while self._is("op", ","):
                self.index += 1
                values.append(self._literal())
            self._expect("op", ")", "',' or ')'")
            return InList(name, tuple(values), negated)
        if self._is("keyword", "BETWEEN"):
            self.index += 1
            low = self._literal()
            self._expect("keyword", "AND", "AND between the two bounds")
            high = self._literal()
            window = And((Compare(name, ">=", low), Compare(name, "<=", high)))
            # Like NOT IN, NOT BETWEEN holds only for runs that have the attribute.
            return And((IsNull(name, negated=True), Not(window))) if negated else window
        if self._is("keyword", "IS"):
            self.index += 1
            is_not = False
            if self._is("keyword", "NOT"):
                self.index += 1
                is_not = True
            self._expect("keyword", "NULL", "NULL")
            return IsNull(name, negated=is_not)
        if self._is("keyword", "CONTAINS"):
            self.index += 1
            return Compare(name, "contains", self._literal())
        raise self._error("a comparison (=, !=, <, <=, >, >=, IN, BETWEEN, IS NULL, CONTAINS)")


def parse(text: str) -> Node:
    """The tree of a visibility query, or :class:`QueryError` with a message naming the problem."""
    if not text.strip():
        raise QueryError("Invalid query: it is empty.")
    return _Parser(text).parse()
