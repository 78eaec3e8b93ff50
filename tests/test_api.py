"""The JSON summary API."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]


def test_summary_of_the_newest_report(client, report_2022):
    response = client.get("/api/summary.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["report"] == "2022-03"
    assert data["total"] == 60
    assert data["ratings"] == [
        {"code": "A", "label": "完了", "count": 8, "percent": "13.33"},
        {"code": "B", "label": "実施中", "count": 28, "percent": "46.67"},
        {"code": "C", "label": "着手", "count": 24, "percent": "40.00"},
        {"code": "D", "label": "未着手", "count": 0, "percent": "0.00"},
    ]
    assert [c["number"] for c in data["chapters"]] == [1, 2, 3, 4, 5, 6]
    assert data["chapters"][0]["title"] == "デジタル未来都市"
    assert data["chapters"][0]["total"] == 8
    assert len(data["chapters"][0]["ratings"]) == 4


def test_summary_for_a_given_month(client, report_2022):
    response = client.get("/api/reports/2022-03/summary.json")
    assert response.status_code == 200
    assert response.json()["report"] == "2022-03"


@pytest.mark.parametrize("month", ["2021-03", "2022-13", "0000-00"])
def test_unknown_month_is_404(client, report_2022, month):
    assert client.get(f"/api/reports/{month}/summary.json").status_code == 404
