from django.urls import path, register_converter

from . import views
from .converters import MonthConverter
from .feeds import ReportChangesFeed

register_converter(MonthConverter, "month")

app_name = "pledges"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("pledges/<int:number>/", views.pledge, name="pledge"),
    path("changes/", views.changes_latest, name="changes_latest"),
    path("changes/<month:before>/<month:after>/", views.changes_between, name="changes_between"),
    path("feed/", ReportChangesFeed(), name="feed"),
    path("api/summary.json", views.summary_json, name="summary_json"),
    path("api/reports/<month:month>/summary.json", views.summary_json, name="report_summary_json"),
    path("api/changes/<month:before>/<month:after>.json", views.changes_json, name="changes_json"),
]
