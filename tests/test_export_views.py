"""Public downloads: /export/<month>.xlsx|.csv|.json and /export/latest.xlsx."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.urls import reverse

from pledges import excel, loading
from pledges.export_views import XLSX_TYPE
from pledges.models import Report, SubItem
from pledges.testing import generated_table

from .workbooks import open_workbook, sub_item_rows

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]

JAPANESE_XLSX = quote("入間市公約進捗_2022-03.xlsx")


def test_url_names() -> None:
    assert reverse("pledges:export_xlsx", args=["2022-03"]) == "/export/2022-03.xlsx"
    assert reverse("pledges:export_latest_xlsx") == "/export/latest.xlsx"
    assert reverse("pledges:export_csv", args=["2022-03"]) == "/export/2022-03.csv"
    assert reverse("pledges:export_json", args=["2022-03"]) == "/export/2022-03.json"


def test_xlsx_download_is_the_workbook_with_a_japanese_file_name(client, report_2022) -> None:
    response = client.get("/export/2022-03.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"iruma-pledges-2022-03.xlsx\"; filename*=UTF-8''{JAPANESE_XLSX}"
    )
    assert JAPANESE_XLSX == (
        "%E5%85%A5%E9%96%93%E5%B8%82%E5%85%AC%E7%B4%84%E9%80%B2%E6%8D%97_2022-03.xlsx"
    )
    assert len(sub_item_rows(open_workbook(response.content)[excel.LIST_SHEET])) == 60


def test_latest_xlsx_is_the_newest_published_report(client, report_2022) -> None:
    loading.load_table(generated_table(sub_items=8), same_manifesto=True)
    Report.objects.filter(as_of__year=2030).update(status=Report.Status.DRAFT)
    response = client.get("/export/latest.xlsx")
    assert response.status_code == 200
    assert 'filename="iruma-pledges-2022-03.xlsx"' in response["Content-Disposition"]
    Report.objects.filter(as_of__year=2030).update(status=Report.Status.PUBLISHED)
    response = client.get("/export/latest.xlsx")
    assert 'filename="iruma-pledges-2030-03.xlsx"' in response["Content-Disposition"]


@pytest.mark.parametrize("extension", ["xlsx", "csv", "json"])
def test_a_draft_is_not_found_by_the_public(client, report_2022, extension: str) -> None:
    report_2022.status = Report.Status.DRAFT
    report_2022.save()
    assert client.get(f"/export/2022-03.{extension}").status_code == 404
    assert client.get("/export/latest.xlsx").status_code == 404


@pytest.mark.parametrize("path", ["/export/2021-03.xlsx", "/export/2022-13.csv"])
def test_an_unknown_month_is_not_found(client, report_2022, path: str) -> None:
    assert client.get(path).status_code == 404


def test_downloads_are_get_only(client, report_2022) -> None:
    assert client.post("/export/2022-03.xlsx").status_code == 405


def test_csv_download_has_bom_and_a_line_per_sub_item(client, report_2022) -> None:
    response = client.get("/export/2022-03.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        "attachment; filename=\"iruma-pledges-2022-03.csv\"; filename*=UTF-8''"
    )
    assert response.content.startswith(b"\xef\xbb\xbf\xe7\xab\xa0,")  # BOM, then 章
    assert response.content.decode("utf-8-sig").count("\r\n") >= 61


def test_both_csv_downloads_have_the_same_columns_and_rows(client, report_2022) -> None:
    open_data = client.get("/export/2022-03.csv").content
    assert client.get("/items.csv").content == open_data  # everything, in the same order


def test_csv_download_never_turns_a_cell_into_a_formula(client, report_2022) -> None:
    SubItem.objects.filter(pledge__number=1, position=1).update(content="=1+1")
    assert ",'=1+1," in client.get("/export/2022-03.csv").content.decode()
    assert client.get("/export/2022-03.json").json()["items"][0]["content"] == "=1+1"


def test_json_download_is_the_whole_report(client, report_2022) -> None:
    response = client.get("/export/2022-03.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'inline; filename="iruma-pledges-2022-03.json"'
    )
    data = json.loads(response.content)
    assert len(data["items"]) == 60
    assert [r["percent"] for r in data["summary"]["ratings"]] == ["13.33", "46.67", "40.00", "0.00"]


@pytest.mark.parametrize("sub_items", [60, 2000])
def test_downloads_run_a_constant_number_of_queries(
    client, django_assert_max_num_queries, sub_items: int
) -> None:
    loading.load_table(generated_table(sub_items=sub_items), same_manifesto=True)
    for extension in ("xlsx", "csv", "json"):
        with django_assert_max_num_queries(5):
            response = client.get(f"/export/2030-03.{extension}")
        assert response.status_code == 200
    assert response.json()["summary"]["total"] == sub_items
