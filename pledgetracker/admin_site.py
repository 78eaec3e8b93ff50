"""The admin site: the pledge data first, login records for superusers only.

Installed in place of ``django.contrib.admin`` (``PledgeAdminConfig`` in ``INSTALLED_APPS``), so
``admin.site`` and ``@admin.register`` everywhere are this site.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

# The order of apps on the index and in the side bar; apps not listed follow, by name.
APP_ORDER = ("pledges", "auth", "axes")
# django-axes gives its app no verbose name ("Axes"); its models' names are translated in
# locale/ja (django-axes ships no Japanese).
LOGIN_RECORDS_APP = "axes"
LOGIN_RECORDS_NAME = _("ログインの記録(試行・失敗・ロック)")


class PledgeAdminSite(admin.AdminSite):
    site_header = _("いるま公約進捗 管理画面")
    site_title = _("いるま公約進捗 管理画面")
    index_title = _("データの管理")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if not request.user.is_superuser:
            # Who tried to log in from where is personal data and lockouts are lifted by the
            # superusers; editors do not need the section even if a group grants its models.
            apps = [app for app in apps if app["app_label"] != LOGIN_RECORDS_APP]
        for app in apps:
            if app["app_label"] == LOGIN_RECORDS_APP:
                app["name"] = LOGIN_RECORDS_NAME
        return sorted(apps, key=_app_position)


def _app_position(app: dict) -> tuple[int, str]:
    label = app["app_label"]
    return (APP_ORDER.index(label) if label in APP_ORDER else len(APP_ORDER), str(app["name"]))


class PledgeAdminConfig(AdminConfig):
    default_site = "pledgetracker.admin_site.PledgeAdminSite"
