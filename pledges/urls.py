from django.urls import path, register_converter

from . import views
from .converters import MonthConverter

register_converter(MonthConverter, "month")

app_name = "pledges"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("chapters/<int:number>/", views.chapter, name="chapter"),
    path("pledges/<int:number>/", views.pledge, name="pledge"),
    path("items/", views.items, name="items"),
    path("items.csv", views.items_csv, name="items_csv"),
    path("api/summary.json", views.summary_json, name="summary_json"),
    path("api/reports/<month:month>/summary.json", views.summary_json, name="report_summary_json"),
]
