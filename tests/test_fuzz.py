"""Fuzzing the importer with mutations of the real 2022 file.

Whatever the bytes, ``loading.load_file`` either imports them or raises ``ParseError`` /
``LoadError`` — never another exception, never a partial write. Mutations are what damaged
files really look like: flipped bytes, lost or doubled lines, stray tabs, a truncated download.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pledges import loading, table_format

REAL = (Path(__file__).resolve().parent.parent / "fixtures" / "iruma-pledge-progress-2022-03.txt")
REAL_BYTES = REAL.read_bytes()
LINE_COUNT = REAL_BYTES.count(b"\n")
# Characters the format gives a meaning to, and a few that text tools treat as line breaks.
TOKENS = [
    "\t", "\n", "\r", "\u3000", "①", "㊿", "※1", "※9", "【", "】", "：", ":", "・", "第", "章",
    "A 完了", "D 未着手", "%", "１", "99", "\u2028", "\x85", "\ufeff", "あ" * 400,
]


@st.composite
def mutation(draw: st.DrawFn) -> tuple:
    kind = draw(
        st.sampled_from(["flip", "delete", "duplicate", "tab", "truncate", "swap", "insert"])
    )
    if kind in {"delete", "duplicate"}:
        return (kind, draw(st.integers(0, LINE_COUNT)))
    if kind == "swap":
        return (kind, draw(st.integers(0, LINE_COUNT)), draw(st.integers(0, LINE_COUNT)))
    position = draw(st.integers(0, len(REAL_BYTES) - 1))
    if kind == "flip":
        return (kind, position, draw(st.integers(1, 255)))
    if kind == "insert":
        return (kind, position, draw(st.sampled_from(TOKENS)))
    return (kind, position)


def mutate(data: bytes, mutations: list[tuple]) -> bytes:
    for kind, *args in mutations:
        if kind == "flip":
            position, mask = args
            position %= max(len(data), 1)
            if data:
                data = data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]
        elif kind in {"tab", "insert"}:
            position = args[0] % (len(data) + 1)
            token = b"\t" if kind == "tab" else args[1].encode()
            data = data[:position] + token + data[position:]
        elif kind == "truncate":
            data = data[: args[0] % (len(data) + 1)]
        else:
            lines = data.split(b"\n")
            first = args[0] % len(lines)
            if kind == "delete":
                del lines[first]
            elif kind == "duplicate":
                lines.insert(first, lines[first])
            else:
                second = args[1] % len(lines)
                lines[first], lines[second] = lines[second], lines[first]
            data = b"\n".join(lines)
    return data


mutated_files = st.lists(mutation(), min_size=1, max_size=4).map(
    lambda mutations: mutate(REAL_BYTES, mutations)
)


def row_counts() -> dict[str, int]:
    """Rows of every table the importer could write: the app's models and their history."""
    models = apps.get_app_config("pledges").get_models()
    return {model._meta.label: model.objects.count() for model in models}


@settings(max_examples=300, deadline=None)
@given(data=mutated_files)
def test_parser_returns_a_table_or_a_parse_error_that_names_a_line(data):
    try:
        table = table_format.parse_bytes(data)
    except table_format.ParseError as error:
        assert error.line >= 1
        assert str(error).startswith(f"line {error.line}: ")
        return
    # What parses must survive the round trip through the writer unchanged.
    assert table_format.parse_table(table_format.write_table(table)) == table


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=mutated_files, existing=st.booleans())
def test_importer_imports_or_refuses_without_a_partial_write(data, existing):
    with transaction.atomic():
        # Each example starts from the same state and leaves nothing behind.
        if existing:
            loading.load_file(REAL_BYTES, source_name=REAL.name)
        before = row_counts()
        try:
            result = loading.load_file(data, source_name="mutant.txt", replace=True)
        except (table_format.ParseError, loading.LoadError):
            assert row_counts() == before
        else:
            table = table_format.parse_bytes(data)
            assert result.sub_items == len(table.sub_items)
            if result.changed:
                assert row_counts() != before
        transaction.set_rollback(True)


# What the fuzzer found: a value longer than its column passed the parser, then failed in
# PostgreSQL with DataError (SQLite stored it silently). The parser now refuses it with its line.


@pytest.mark.parametrize(
    ("original", "replacement", "line", "what"),
    [
        ("【令和4年3月現在】", "【令和4年3月現在】" + "あ" * 300, 3, "title"),
        ("第1章 デジタル未来都市", "第1章 " + "あ" * 201, 10, "chapter title"),
        ("【デジタル】デジタル未来都市推進部門", "【" + "分" * 101 + "】デジタル未来都市推進部門", 11,
         "pledge field"),
        ("デジタル未来都市推進部門の設置 &", "あ" * 301, 11, "pledge title"),
        ("①デジタル未来都市推進部門の設置", "①" + "あ" * 301, 13, "sub-item title"),
    ],
)
def test_parser_refuses_a_value_longer_than_its_column_with_its_line(
    real_text, original, replacement, line, what
):
    assert original in real_text
    with pytest.raises(table_format.ParseError) as raised:
        table_format.parse_table(real_text.replace(original, replacement, 1))
    assert raised.value.line == line
    assert raised.value.message.startswith(f"{what} is ")
    assert "characters long" in raised.value.message


def test_parser_refuses_an_overlong_footnote_marker(real_text):
    text = real_text.replace("※1", "※12345678901")
    with pytest.raises(table_format.ParseError, match="footnote marker is 12 characters long"):
        table_format.parse_table(text)


def test_parser_limits_are_the_database_column_sizes():
    from pledges.models import Chapter, Footnote, Pledge, Report, SubItem

    columns = {
        "title": Report._meta.get_field("title"),
        "chapter title": Chapter._meta.get_field("title"),
        "pledge field": Pledge._meta.get_field("field"),
        "pledge title": Pledge._meta.get_field("title"),
        "sub-item title": SubItem._meta.get_field("title"),
        "footnote marker": Footnote._meta.get_field("marker"),
    }
    assert {what: field.max_length for what, field in columns.items()} == table_format.MAX_LENGTHS
