from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = _("市長公約の進捗")
    default_auto_field = "django.db.models.BigAutoField"
