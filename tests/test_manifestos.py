"""Terms and rating scales: every report belongs to a manifesto, rated on the scale of its legend.

The tables here are built in the tests: a second term's table (new chapters and pledges, the
same A–D legend), tables rated ◎○△ and on five numbered levels, and tables of the 平成 era.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from pledges import editing, excel, loading, table_format
from pledges.models import Manifesto, Report
from pledges.ratings import IRUMA, Scale
from pledges.testing import generated_table

from .lookups import counts, summary
from .workbooks import with_ratings

pytestmark = pytest.mark.django_db

SYMBOLS = Scale.of([("◎", "達成済"), ("○", "取組中"), ("△", "未着手")])
FIVE = Scale.of([("5", "達成"), ("4", "順調"), ("3", "進行中"), ("2", "遅れ"), ("1", "未着手")])
ATOM = "{http://www.w3.org/2005/Atom}"


def second_term(as_of: date = date(2023, 3, 1)) -> table_format.Table:
    """A new mayor's first table: other chapters and pledges, the same A–D legend."""
    return generated_table(sub_items=12, chapters=3, as_of=as_of, text="第二期")


def text_of(table: table_format.Table) -> bytes:
    return table_format.write_table(table).encode()


# -- the scale comes from the legend -------------------------------------------------------------


def test_the_real_table_reads_its_four_levels_from_its_legend(real_table) -> None:
    assert real_table.scale == IRUMA
    assert real_table.legend_line == 5  # after two blank lines and the title


@pytest.mark.parametrize("scale", [SYMBOLS, FIVE], ids=["symbols", "five"])
def test_any_scale_round_trips_through_the_text_format(scale: Scale) -> None:
    table = generated_table(sub_items=7, chapters=2, scale=scale)
    parsed = table_format.parse_table(table_format.write_table(table))
    assert parsed.scale == scale and parsed == table


def test_a_rating_off_the_legend_is_refused_with_its_line() -> None:
    text = table_format.write_table(generated_table(sub_items=7, chapters=2, scale=SYMBOLS))
    broken = text.replace("\t○ 取組中", "\tB 実施中", 1)
    with pytest.raises(table_format.ParseError) as raised:
        table_format.parse_table(broken)
    assert raised.value.message == "rating is not one of ◎ 達成済, ○ 取組中, △ 未着手"


def test_a_table_without_a_legend_is_refused(real_text: str) -> None:
    without = "\n".join(line for line in real_text.split("\n") if not line.startswith("- "))
    with pytest.raises(table_format.ParseError) as raised:
        table_format.parse_table(without)
    assert "expected the legend under the title" in raised.value.message


@pytest.mark.parametrize(
    ("as_of", "label"),
    [(date(2018, 3, 1), "平成30年3月"), (date(2019, 4, 1), "平成31年4月"),
     (date(2019, 5, 1), "令和元年5月"), (date(2020, 3, 1), "令和2年3月")],
)
def test_both_eras_are_read_in_titles(as_of: date, label: str) -> None:
    text = table_format.write_table(generated_table(sub_items=4, chapters=1, as_of=as_of))
    assert f"【{label}現在】" in text.split("\n")[0]
    assert table_format.parse_table(text).as_of == as_of


# -- importing: the current, a named or a new manifesto -----------------------------------------


def test_the_first_import_makes_a_first_manifesto_from_the_table(report_2022: Report) -> None:
    manifesto = report_2022.manifesto
    assert (manifesto.slug, manifesto.title) == ("term-1", "市長公約(政策宣言)")
    assert manifesto.scale == IRUMA


def test_a_second_terms_table_is_refused_naming_new_manifesto(report_2022: Report) -> None:
    with pytest.raises(loading.LoadError) as raised:
        loading.load_table(second_term())
    message = str(raised.value)
    assert message.startswith("only 0 of 12 sub-items are found in manifesto 'term-1''s report")
    assert "--new-manifesto SLUG" in message and "--same-manifesto" in message
    assert Report.objects.count() == 1


def test_a_new_manifesto_takes_the_new_terms_table(report_2022: Report) -> None:
    result = loading.load_table(
        second_term(),
        new_manifesto=loading.NewManifesto("2022-term", "入間市RISE UP宣言 第二期", "入間一郎"),
    )
    assert (result.manifesto, result.new_manifesto, result.action) == ("2022-term", True, "created")
    manifesto = Manifesto.objects.get(slug="2022-term")
    assert (manifesto.title, manifesto.mayor) == ("入間市RISE UP宣言 第二期", "入間一郎")
    assert list(manifesto.reports.values_list("as_of", flat=True)) == [date(2023, 3, 1)]


def test_a_later_report_with_another_legend_is_refused_naming_the_line(
    report_2022: Report,
) -> None:
    table = generated_table(sub_items=7, chapters=2, as_of=date(2023, 3, 1), scale=SYMBOLS)
    with pytest.raises(loading.LoadError) as raised:
        loading.load_file(text_of(table), same_manifesto=True)
    assert str(raised.value).startswith(
        "line 3: the legend (◎ 達成済, ○ 取組中, △ 未着手) is not the scale of manifesto "
        "'term-1' (A 完了, B 実施中, C 着手, D 未着手)"
    )


def test_insisting_on_the_same_manifesto_adds_an_unlike_table(report_2022: Report) -> None:
    result = loading.load_table(second_term(), same_manifesto=True)
    assert result.manifesto == "term-1" and not result.new_manifesto


def test_reports_of_two_manifestos_import_in_any_order(real_bytes: bytes) -> None:
    loading.load_table(second_term(date(2026, 3, 1)))  # an empty database: the first manifesto
    with pytest.raises(loading.LoadError):
        loading.load_file(real_bytes)  # the current manifesto is the 2026 table's
    loading.load_file(real_bytes, new_manifesto=loading.NewManifesto("2018-term"))
    assert {r.month: r.manifesto.slug for r in Report.objects.all()} == {
        "2026-03": "term-1", "2022-03": "2018-term",
    }


def test_the_command_starts_and_names_manifestos(report_2022: Report, tmp_path) -> None:
    path = tmp_path / "second.txt"
    path.write_bytes(text_of(second_term()))
    with pytest.raises(CommandError, match="--new-manifesto"):
        call_command("import_progress", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "import_progress", str(path), "--new-manifesto", "2022-term", "--title", "第二期の公約",
        "--mayor", "入間一郎", stdout=out,
    )
    assert "2023-03: imported" in out.getvalue()
    assert "manifesto 2022-term (new)" in out.getvalue()
    with pytest.raises(CommandError, match="--title and --mayor describe a new manifesto"):
        call_command("import_progress", str(path), "--title", "x", stdout=io.StringIO())


# -- comparisons stay within a manifesto ----------------------------------------------------


@pytest.fixture
def two_terms(report_2022: Report) -> Report:
    """The real 2022 report (term-1) and a new term's first report of 2023."""
    loading.load_table(second_term(), new_manifesto=loading.NewManifesto("2022-term", "第二期"))
    return Report.objects.get(as_of=date(2023, 3, 1))


def test_changes_between_two_manifestos_do_not_exist(client, two_terms: Report) -> None:
    assert client.get("/changes/2022-03/2023-03/").status_code == 404
    assert client.get("/api/changes/2022-03/2023-03.json").status_code == 404


def test_the_first_report_of_a_manifesto_has_nothing_to_compare(client, two_terms) -> None:
    page = client.get("/changes/").content.decode()
    assert "公約集「第二期」の最初の報告なので、比べられる前回の報告はありません" in page
    overview = client.get("/").content.decode()
    assert "前回" not in overview.split('class="totals"')[1].split("</section>")[0]
    assert "公約集: 第二期" in overview


def test_the_feed_compares_only_within_a_manifesto(client, two_terms) -> None:
    entries = ET.fromstring(client.get("/feed/").content).findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        "令和5年3月現在の進捗: 完了 3件",
        "令和4年3月現在の進捗: 完了 8件",
    ]


def test_the_api_names_the_manifesto(client, two_terms) -> None:
    newest = summary(client)
    assert newest["manifesto"] == {
        "slug": "2022-term", "title": "第二期", "mayor": None, "term_start": None,
        "term_end": None, "scale": [{"code": level.code, "label": level.label} for level in IRUMA],
    }
    assert summary(client, "/api/reports/2022-03/summary.json")["manifesto"]["slug"] == "term-1"


def test_the_archive_lists_each_manifesto_with_its_latest_figures(client, two_terms) -> None:
    page = client.get("/manifestos/").content.decode()
    assert page.index("第二期") < page.index("市長公約(政策宣言)")
    assert "最新の報告: 令和4年3月現在（報告 1回）" in page
    assert "A 完了 <strong>8</strong>" in page and "A 完了 <strong>3</strong>" in page


def test_a_draft_copied_from_a_report_stays_in_its_manifesto(two_terms: Report) -> None:
    draft = editing.copy_to_draft(two_terms, date(2024, 3, 1))
    assert draft.manifesto.slug == "2022-term"


# -- another scale, everywhere -----------------------------------------------------------------


@pytest.fixture
def symbols_report(db) -> Report:
    """A city rating ◎○△: seven sub-items, ○ 3, ◎ 2, △ 2."""
    loading.load_table(generated_table(sub_items=7, chapters=2, scale=SYMBOLS))
    return Report.objects.get()


def test_figures_follow_the_scale_every_level_shown(client, symbols_report) -> None:
    data = summary(client)
    assert [(r["code"], r["label"], r["count"], r["percent"]) for r in data["ratings"]] == [
        ("◎", "達成済", 2, "28.57"), ("○", "取組中", 3, "42.86"), ("△", "未着手", 2, "28.57"),
    ]
    assert symbols_report.manifesto.scale == SYMBOLS


def test_pages_show_the_scale_with_tones_by_rank(client, symbols_report) -> None:
    overview = client.get("/").content.decode()
    assert '<span class="badge tone-0"><span class="badge__code">◎</span>' in overview
    assert '<span class="badge tone-4"><span class="badge__code">△</span>' in overview
    # The explanation under the figures names this scale's levels, not A–D.
    assert "◎ 達成済・○ 取組中・△ 未着手。件数と割合は" in overview
    assert "A 完了" not in overview
    items = client.get("/items/", {"rating": "○"}).content.decode()
    assert '<option value="○" selected>○ 取組中</option>' in items
    assert items.count('<tr id="row-') == 3


def test_items_sort_by_rating_follows_the_scale_not_the_codes(client, symbols_report) -> None:
    def ratings(sort: str) -> list[str]:
        html = client.get("/items/", {"sort": sort}).content.decode()
        return re.findall(r'<span class="badge__code">(.)</span>', html.split("<tbody>")[1])

    # By code, △ (U+25B3) < ○ (U+25CB) < ◎ (U+25CE): the worst would come first.
    assert ratings("rating") == ["◎", "◎", "○", "○", "○", "△", "△"]
    assert ratings("-rating") == ["△", "△", "○", "○", "○", "◎", "◎"]


def test_five_levels_count_and_compare(client) -> None:
    loading.load_table(generated_table(sub_items=9, chapters=1, scale=FIVE))
    assert counts(summary(client)) == {"5": 1, "4": 2, "3": 2, "2": 2, "1": 2}
    later = generated_table(sub_items=9, chapters=1, scale=FIVE, as_of=date(2031, 3, 1))
    loading.load_table(later)
    assert client.get("/changes/").status_code == 200


def test_the_workbook_round_trip_uses_the_reports_scale(symbols_report) -> None:
    exported = excel.export_xlsx(symbols_report)
    plan = excel.plan_import(with_ratings(exported, **{"1②": "◎"}), symbols_report)
    assert [(c.code, c.old_rating_text, c.new_rating_text) for c in plan.changes] == [
        ("1②", "△ 未着手", "◎ 達成済")
    ]
    with pytest.raises(excel.WorkbookError) as raised:
        excel.plan_import(with_ratings(exported, **{"1②": "A"}), symbols_report)
    assert "◎ 達成済・○ 取組中・△ 未着手 のどれでもありません" in raised.value.errors[0]
    editing.apply_workbook(plan)
    csv = excel.render_csv(excel.read_report(symbols_report)).decode("utf-8-sig")
    assert ",◎,達成済," in csv
