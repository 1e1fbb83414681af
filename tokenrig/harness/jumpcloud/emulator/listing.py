"""Filtering, sorting, projection and paging of V1 lists (``GET /systemusers``, search).

Both forms of filter the V1 API knows are supported: the query-string form
``field:$op:value`` (repeated ``filter=`` or ``filter[0]=`` = AND, ``filter[or][0]=`` = OR)
and the search body's MongoDB-like objects (``[{"username": "x"}]``, ``{"or": [...]}``,
``{"email": {"$regex": "(?i)^a"}}``). Values compare as JumpCloud stores them: strings, with
booleans spelled ``true``/``false``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

from tokenrig.harness.jumpcloud.emulator.models import EmulatorError

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

MAX_PAGE = 100
"""GET lists refuse ``limit`` above 100."""
MAX_SEARCH_PAGE = 1000
"""``POST /search/systemusers`` takes up to 1000 (JumpCloud's own module asks for 1000)."""
LIMIT_MESSAGE = 'Bad Request: request parameter "limit" exceeds maximum value of {max}'
OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
MAX_REGEX = 256


def lookup(record: Record, dotted: str) -> Any:
    """``recoveryEmail.address`` → nested value (None when absent)."""
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _repeats_a_choice(pattern: str) -> bool:
    """True when a group holding a quantifier or ``|`` is itself repeated (``(a+)+``,
    ``(a|aa)*``, ``(\\w{2})+``): the shapes that make a backtracking engine take exponential
    time on a short subject. Python's ``re`` has no timeout, so such patterns are refused."""
    risky: list[bool] = []  # one entry per open group: has it a quantifier or alternation?
    closed_risky = False  # the group that just closed was risky
    index = 0
    while index < len(pattern):
        char = pattern[index]
        quantifier = char in "*+{"
        if quantifier and closed_risky:
            return True
        closed_risky = False
        if char == "\\":
            index += 2
            continue
        if char == "[":  # a character class: skip to its closing bracket
            index += 2 if pattern[index + 1 : index + 2] == "]" else 1
            while index < len(pattern) and pattern[index] != "]":
                index += 2 if pattern[index] == "\\" else 1
        elif char == "(":
            risky.append(False)
        elif char == ")" and risky:
            closed_risky = risky.pop()
            if risky:
                risky[-1] = risky[-1] or closed_risky
        elif (quantifier or char == "|") and risky:
            risky[-1] = True
        index += 1
    return False


def _compare(op: str, actual: Any, wanted: Any) -> bool:
    if op == "$regex":
        if not isinstance(wanted, str) or len(wanted) > MAX_REGEX:
            raise EmulatorError("Bad Request: $regex must be a string of at most 256 characters")
        if _repeats_a_choice(wanted):
            raise EmulatorError(
                "Bad Request: $regex too complex (a repeated group holding a quantifier or |)"
            )
        try:
            pattern = re.compile(wanted.replace("(?i)", ""), re.I if "(?i)" in wanted else 0)
        except re.error as exc:
            raise EmulatorError(f"Bad Request: invalid $regex: {exc}") from exc
        return pattern.search(as_text(actual)) is not None
    if op == "$in":
        if not isinstance(wanted, list):
            raise EmulatorError("Bad Request: $in needs an array")
        return as_text(actual) in {as_text(w) for w in wanted}
    left, right = as_text(actual), as_text(wanted)
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        try:
            return _ordered(op, float(actual), float(right))
        except ValueError:
            pass
    return _ordered(op, left, right)


def _ordered(op: str, left: Any, right: Any) -> bool:
    if op == "$eq":
        return bool(left == right)
    if op == "$ne":
        return bool(left != right)
    if op == "$gt":
        return bool(left > right)
    if op == "$gte":
        return bool(left >= right)
    if op == "$lt":
        return bool(left < right)
    if op == "$lte":
        return bool(left <= right)
    raise EmulatorError(f"Bad Request: unknown filter operator {op!r}")


def query_filter(expressions: Sequence[str]) -> Predicate:
    """One ``field:$op:value`` string → predicate (the value may contain ``:``)."""
    parts = [expr.split(":", 2) for expr in expressions]
    for expr, part in zip(expressions, parts, strict=True):
        if len(part) != 3 or not part[0]:
            raise EmulatorError(f"Bad Request: invalid filter {expr!r}; use field:$op:value")
        if part[1] not in OPERATORS:
            raise EmulatorError(f"Bad Request: invalid filter operator {part[1]!r}")
    return lambda record: all(_compare(op, lookup(record, f), v) for f, op, v in parts)


def filters_from_query(query: dict[str, list[str]]) -> Predicate:
    """AND of ``filter``/``filter[n]``, then AND with the OR of ``filter[or][n]``."""
    and_exprs: list[str] = []
    or_exprs: list[str] = []
    for key, values in query.items():
        if key == "filter" or re.fullmatch(r"filter\[\d+\]", key):
            and_exprs.extend(v for v in values if v)
        elif re.fullmatch(r"filter\[or\]\[\d+\]", key):
            or_exprs.extend(v for v in values if v)
    every = query_filter(and_exprs)
    anyof = [query_filter([expr]) for expr in or_exprs]
    return lambda r: every(r) and (not anyof or any(p(r) for p in anyof))


def object_filter(spec: Any) -> Predicate:
    """The search body's ``filter``: list (AND), ``{"and": [...]}``, ``{"or": [...]}``, or one
    object of ``field: value | {"$op": value}`` conditions."""
    if spec is None:
        return lambda _: True
    if isinstance(spec, list):
        parts = [object_filter(item) for item in spec]
        return lambda r: all(p(r) for p in parts)
    if not isinstance(spec, dict):
        raise EmulatorError("Bad Request: 'filter' must be an object or an array of objects")
    if set(spec) == {"and"} or set(spec) == {"or"}:
        ((key, items),) = spec.items()
        if not isinstance(items, list):
            raise EmulatorError(f"Bad Request: filter '{key}' needs an array")
        parts = [object_filter(item) for item in items]
        if key == "and":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    conditions: list[tuple[str, str, Any]] = []
    for field, cond in spec.items():
        if isinstance(cond, dict):
            for op, wanted in cond.items():
                if op not in (*OPERATORS, "$regex", "$in"):
                    raise EmulatorError(f"Bad Request: unknown filter operator {op!r}")
                conditions.append((field, op, wanted))
        else:
            conditions.append((field, "$eq", cond))
    for _, op, wanted in conditions:  # fail on a bad regex even when no record is tested
        if op == "$regex":
            _compare(op, "", wanted)
    return lambda r: all(_compare(op, lookup(r, f), w) for f, op, w in conditions)


def search_term_filter(spec: Any) -> Predicate:
    """``searchFilter: {"searchTerm": "x" | [..], "fields": [..]}``: case-insensitive substring."""
    if spec is None:
        return lambda _: True
    if not isinstance(spec, dict):
        raise EmulatorError("Bad Request: 'searchFilter' must be an object")
    terms = spec.get("searchTerm", [])
    terms = [terms] if isinstance(terms, str) else terms
    fields = spec.get("fields", ["username", "email", "firstname", "lastname"])
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise EmulatorError("Bad Request: 'searchFilter.searchTerm' must be a string or strings")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise EmulatorError("Bad Request: 'searchFilter.fields' must be an array of strings")
    if not terms:
        return lambda _: True
    lowered = [t.casefold() for t in terms]
    return lambda r: any(t in as_text(lookup(r, f)).casefold() for t in lowered for f in fields)


def sort_records(
    records: list[Record],
    sort: str,
    ignore_case: bool = False,
    known: Collection[str] = (),
) -> list[Record]:
    """Space- (or comma-) separated keys, ``-`` for descending; stable, last key first.

    A key whose first part is not in ``known`` is a 400 naming it (INFERRED: JumpCloud does
    not document what it does with one; ignoring it would hide a typo). Empty ``known`` =
    no check."""
    keys = [k for k in re.split(r"[ ,]+", sort.strip()) if k]
    for key in keys:
        name = key.lstrip("-")
        if known and name.split(".")[0] not in known:
            raise EmulatorError(f"Bad Request: unknown sort field {name!r}")
    for key in reversed(keys):
        descending = key.startswith("-")
        name = key.lstrip("-")

        def sort_key(record: Record, name: str = name) -> tuple[int, str]:
            value = as_text(lookup(record, name))
            return (lookup(record, name) is None, value.casefold() if ignore_case else value)

        records.sort(key=sort_key, reverse=descending)
    return records


def project(record: Record, fields: str) -> Record:
    """``fields=email username``: only those (and ``_id``, which JumpCloud always returns)."""
    wanted = [f for f in re.split(r"[ ,]+", fields.strip()) if f]
    if not wanted:
        return record
    return {k: v for k, v in record.items() if k in wanted or k == "_id"}


def parse_count(value: Any, name: str, default: int, maximum: int | None) -> int:
    """``limit``/``skip`` from a query string or a JSON body, with JumpCloud's messages."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise EmulatorError(f'Bad Request: request parameter "{name}" must be an integer')
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise EmulatorError(f'Bad Request: request parameter "{name}" must be an integer') from None
    if isinstance(value, float) and value != number:
        raise EmulatorError(f'Bad Request: request parameter "{name}" must be an integer')
    if number < 0:
        raise EmulatorError(f'Bad Request: request parameter "{name}" must be at least 0')
    if maximum is not None and number > maximum:
        raise EmulatorError(LIMIT_MESSAGE.format(max=maximum) if name == "limit" else "Bad Request")
    return number
