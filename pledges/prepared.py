"""Queries the ORM builds and compiles once, then runs with each call's values.

Building a QuerySet and compiling it to SQL costs 0.3–1 ms of Python whatever the query reads;
running it on a report of 60 sub-items costs about 0.1 ms. A page that asks four such questions
spent most of its time writing the same SQL again. A ``PreparedQuery`` builds its QuerySet once
per database and shape (which parameters, how long each list), around stand-in values, keeps the
SQL, and on each call puts the call's values where the stand-ins were — what SQLAlchemy does
with its compiled cache. The query is still written with the ORM, and ``queryset(**values)``
gives it back for anything that wants a QuerySet (tests compare the two).

A prepared query selects values (``values_list``, tuples), and its parameters are ids: each a
number, or a list of numbers for an ``__in`` lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ValuesListIterable

Parameter = int | Sequence[int]
# What a database integer holds (64 bits); the driver refuses a number beyond it.
_SMALLEST, _LARGEST = -(2**63), 2**63 - 1
# Calls with more values (a page of /items/ lists up to 100 ids) go through the ORM.
_MOST_VALUES = 128
# The SQL kept for one query is bounded: lists are padded to a power of two (an ``__in`` list
# repeats its last id), so a page of 1 to 100 ids is one of eight shapes, not a hundred.
_MOST_SHAPES = 64
# The shape of a call: each parameter's name and, for a list, its padded length.
Shape = tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # the compiled parameters, stand-ins included
    # (position in params, parameter name, index in its list or None for a number)
    slots: tuple[tuple[int, str, int | None], ...]
    columns: int  # what the rows keep (the database may return more, for ordering)
    trim: bool
    # (column, its expression) for the columns Django converts as it reads them (dates,
    # decimals, booleans on SQLite); the converters are asked of the connection of each call.
    converted: tuple[tuple[int, Any], ...]


class PreparedQuery:
    """``build(**values)`` returns a ``values_list`` QuerySet; ``rows(**values)`` runs it."""

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self._build = build
        self._model: type[Model] | None = None  # known once the query has been built
        self._compiled: dict[tuple[str, Shape], _Compiled | None] = {}

    def queryset(self, **values: Parameter) -> QuerySet[Any, Any]:
        """The query with ``values``, as the ORM builds it."""
        return self._build(**values)

    def rows(self, **values: Parameter) -> list[tuple[Any, ...]]:
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
        padded = {name: _padded(value) for name, value in values.items()}
        shape = tuple(
            (name, None if isinstance(value, int) else len(value))
            for name, value in sorted(padded.items())
        )
        if self._model is None:
            self._model = self._build(**padded).model
        using = router.db_for_read(self._model)
        try:
            compiled = self._compiled[using, shape]
        except KeyError:
            if len(self._compiled) >= _MOST_SHAPES:
                self._compiled.clear()
            compiled = self._compiled[using, shape] = self._compile(shape, using)
        if compiled is None:  # the query can match nothing (an empty list)
            return []
        params = list(compiled.params)
        for position, name, index in compiled.slots:
            value = padded[name]
            params[position] = value if isinstance(value, int) else value[index or 0]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.trim:
            rows = [row[: compiled.columns] for row in rows]
        if compiled.converted:
            converters = [
                (position, expression, [
                    *connection.ops.get_db_converters(expression),
                    *expression.get_db_converters(connection),
                ])
                for position, expression in compiled.converted
            ]
            rows = [_converted(row, converters, connection) for row in rows]
        return rows

    def _compile(self, shape: Shape, using: str) -> _Compiled | None:
        # Compiled twice, around two sets of stand-ins: a parameter whose value follows the
        # stand-ins is the caller's, one that stays the same is the query's own (a 0 in
        # ``revision__gt=0``). The stand-ins are small positive numbers, so that no field's
        # range check (Django drops an out-of-range value from the SQL) treats them apart.
        count = sum(1 if length is None else length for _name, length in shape)
        first, second = (self._compiled_with(shape, start, using) for start in (1, 1 + count))
        if first is None or second is None:
            if any(length == 0 for _name, length in shape):
                return None  # an empty list: the ORM runs no query either
            raise ImproperlyConfigured("A prepared query compiled to nothing for its stand-ins.")
        (compiler, sql, params, where), (_compiler, other_sql, other_params, other_where) = (
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
        return _Compiled(
            sql=sql, params=tuple(params), slots=slots, columns=compiler.col_count,
            trim=bool(compiler.has_extra_select),
            converted=tuple(
                (position, expression)
                for position, (_functions, expression)
                in compiler.get_converters(selected).items()
            ),
        )

    def _compiled_with(
        self, shape: Shape, start: int, using: str
    ) -> tuple[Any, str, list[Any], dict[int, tuple[str, int | None]]] | None:
        """(compiler, sql, params, {stand-in: (name, index or None)}) built around stand-ins
        numbered from ``start``; None when the SQL can match nothing."""
        stand_ins: dict[str, Parameter] = {}
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
        # Tuples, as ``rows`` returns them (not named tuples, not flat values).
        if queryset._iterable_class is not ValuesListIterable:
            raise ImproperlyConfigured("A prepared query selects values: end it in values_list().")
        compiler = queryset.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        return compiler, sql, list(params), where


def _padded(value: Parameter) -> Parameter:
    """A list padded to a power of two with its last value (the same ``__in``)."""
    if isinstance(value, int) or not value:
        return value
    value = list(value)
    return value + value[-1:] * ((1 << (len(value) - 1).bit_length()) - len(value))


def _converted(
    row: Sequence[Any], converters: list[tuple[int, Any, list[Callable[..., Any]]]],
    connection: Any,
) -> tuple[Any, ...]:
    values = list(row)
    for position, expression, functions in converters:
        for function in functions:
            values[position] = function(values[position], expression, connection)
    return tuple(values)
