from django.urls import path, register_converter

from . import export_views, views
from .caching import cached_page
from .converters import MonthConverter
from .feeds import ReportChangesFeed

register_converter(MonthConverter, "month")

app_name = "pledges"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("chapters/<int:number>/", views.chapter, name="chapter"),
    path("pledges/<int:number>/", views.pledge, name="pledge"),
    path("items/", views.items, name="items"),
    path("manifestos/", views.manifestos, name="manifestos"),
    path("items.csv", views.items_csv, name="items_csv"),
    path("changes/", views.changes_latest, name="changes_latest"),
    path("changes/<month:before>/<month:after>/", views.changes_between, name="changes_between"),
    path("lang/<str:code>/", views.language, name="language"),
    path("follow/", views.follow, name="follow"),
    path("feed/", cached_page(ReportChangesFeed(), depends="all", parameters=()), name="feed"),
    path("api/summary.json", views.summary_json, name="summary_json"),
    path("api/reports/<month:month>/summary.json", views.summary_json, name="report_summary_json"),
    path("api/changes/<month:before>/<month:after>.json", views.changes_json, name="changes_json"),
    path("export/latest.xlsx", export_views.export_xlsx, name="export_latest_xlsx"),
    path("export/<month:month>.xlsx", export_views.export_xlsx, name="export_xlsx"),
    path("export/<month:month>.csv", export_views.export_csv, name="export_csv"),
    path("export/<month:month>.json", export_views.export_json, name="export_json"),
]
