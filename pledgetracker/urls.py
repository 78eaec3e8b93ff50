from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    # Staff workbook upload/preview/confirm for a report; before admin.site.urls, which would
    # otherwise claim every admin/ path. Both live under ADMIN_URL (default "admin/").
    path(f"{settings.ADMIN_URL}reports/<int:pk>/xlsx/", include("pledges.excel_admin")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("pledges.urls")),
]
