"""Queries the ORM builds and compiles once, then runs with each call's values.

Building a QuerySet and compiling it to SQL costs 0.3–1 ms of Python whatever the query reads;
running it on a report of 60 sub-items costs about 0.1 ms. A page that asks four such questions
spent most of its time writing the same SQL again. A ``PreparedQuery`` builds its QuerySet once
per database (and per length of each list it is given), around stand-in values, keeps the SQL,
and on each call puts the call's values where the stand-ins were — what SQLAlchemy does with its
compiled cache. The query is still written with the ORM, and ``queryset(**values)`` gives it back
for anything that wants a QuerySet (tests compare the two).

A prepared query selects values (``values_list``), and its parameters are ids: each a number,
or a list of numbers for an ``__in`` lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import ValuesListIterable

Value = int | Sequence[int]
# What a database integer holds (64 bits); the driver refuses a number beyond it.
_SMALLEST, _LARGEST = -(2**63), 2**63 - 1
# Calls with more values (a page of /items/ lists up to 100 ids) go through the ORM; the SQL
# kept for a query is bounded by the number of shapes.
_MOST_VALUES = 128
_MOST_SHAPES = 256
# The shape of a call: each parameter's name and, for a list, its length.
Shape = tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class _Compiled:
    using: str  # the database alias the ORM chose for the query
    sql: str
    params: tuple[Any, ...]  # the compiled parameters, stand-ins included
    # (position in params, parameter name, index in its list or None for a number)
    slots: tuple[tuple[int, str, int | None], ...]
    columns: int  # what the rows keep (the database may return more, for ordering)
    trim: bool
    # (column, the backend's and the field's converters, the selected expression): as Django
    # converts values it reads (dates, decimals, booleans on SQLite).
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


class PreparedQuery:
    """``build(**values)`` returns a ``values_list`` QuerySet; ``rows(**values)`` runs it."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self._build = build
        self._compiled: dict[Shape, _Compiled | None] = {}

    def queryset(self, **values: Value) -> QuerySet[Any, Any]:
        """The query with ``values``, as the ORM builds it."""
        return self._build(**values)

    def rows(self, **values: Value) -> list[tuple[Any, ...]]:
        """The rows ``list(self.queryset(**values))`` gives, without building it again."""
        numbers = [
            number for value in values.values()
            for number in ((value,) if isinstance(value, int) else value)
        ]
        if len(numbers) > _MOST_VALUES or not all(
            _SMALLEST <= number <= _LARGEST for number in numbers
        ):
            # A long list is a shape of its own, seldom met twice; a number no column holds
            # is for the ORM to judge (it matches nothing with ``=``).
            return list(self.queryset(**values))
        shape = tuple(
            (name, None if isinstance(value, int) else len(value))
            for name, value in sorted(values.items())
        )
        try:
            compiled = self._compiled[shape]
        except KeyError:
            if len(self._compiled) >= _MOST_SHAPES:
                self._compiled.clear()
            compiled = self._compiled[shape] = self._compile(shape)
        if compiled is None:  # the query can match nothing (an empty list)
            return []
        params = list(compiled.params)
        for position, name, index in compiled.slots:
            value = values[name]
            params[position] = value if isinstance(value, int) else value[index or 0]
        connection = connections[compiled.using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.trim:
            rows = [row[: compiled.columns] for row in rows]
        if compiled.converters:
            rows = [_converted(row, compiled.converters, connection) for row in rows]
        return rows

    def _compile(self, shape: Shape) -> _Compiled | None:
        # Compiled twice, around two sets of stand-ins: a parameter whose value follows the
        # stand-ins is the caller's, one that stays the same is the query's own (a 0 in
        # ``revision__gt=0``). The stand-ins are small positive numbers, so that no field's
        # range check (Django drops an out-of-range value from the SQL) treats them apart.
        count = sum(1 if length is None else length for _name, length in shape)
        first, second = (self._compiled_with(shape, start) for start in (1, 1 + count))
        if first is None or second is None:
            if any(length == 0 for _name, length in shape):
                return None  # an empty list: the ORM runs no query either
            raise ImproperlyConfigured("A prepared query compiled to nothing for its stand-ins.")
        (queryset, compiler, sql, params, where), (_q, _c, other_sql, other_params, other_where) = (
            first, second,
        )
        if sql != other_sql or len(params) != len(other_params):
            raise ImproperlyConfigured("A prepared query's SQL depends on its values.")
        slots = tuple(
            (position, *where[param])
            for position, (param, other) in enumerate(zip(params, other_params, strict=True))
            if isinstance(param, int) and isinstance(other, int) and param != other
            and where.get(param) == other_where.get(other) is not None
        )
        if {slot[1:] for slot in slots} != set(where.values()):
            # A value the ORM folded into the SQL (or dropped) cannot be replaced later.
            raise ImproperlyConfigured("A value of a prepared query is not a parameter of its SQL.")
        selected = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(selected):
            raise ImproperlyConfigured("A prepared query cannot select a composite field.")
        converters = tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(selected).items()
        )
        return _Compiled(
            using=queryset.db, sql=sql, params=tuple(params), slots=slots,
            columns=compiler.col_count, trim=bool(compiler.has_extra_select),
            converters=converters,
        )

    def _compiled_with(self, shape: Shape, start: int) -> tuple | None:
        """(queryset, compiler, sql, params, {stand-in: (name, index or None)}) built around
        stand-ins numbered from ``start``; None when the SQL can match nothing."""
        stand_ins: dict[str, Value] = {}
        where: dict[int, tuple[str, int | None]] = {}
        for name, length in shape:
            if length is None:
                stand_ins[name] = start
                where[start] = (name, None)
                start += 1
            else:
                stand_ins[name] = list(range(start, start + length))
                where.update({start + i: (name, i) for i in range(length)})
                start += length
        queryset = self._build(**stand_ins)
        if not issubclass(queryset._iterable_class, ValuesListIterable):
            raise ImproperlyConfigured("A prepared query selects values: end it in values_list().")
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        return queryset, compiler, sql, list(params), where


def _converted(
    row: Sequence[Any], converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...],
    connection: Any,
) -> tuple[Any, ...]:
    values = list(row)
    for position, functions, expression in converters:
        for function in functions:
            values[position] = function(values[position], expression, connection)
    return tuple(values)
