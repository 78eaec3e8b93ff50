from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Staff workbook upload/preview/confirm for a report; before admin.site.urls, which would
    # otherwise claim every admin/ path.
    path("admin/reports/<int:pk>/xlsx/", include("pledges.excel_admin")),
    path("admin/", admin.site.urls),
    path("", include("pledges.urls")),
]
