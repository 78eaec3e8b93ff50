from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class PledgesConfig(AppConfig):
    name = "pledges"
    verbose_name = _("市長公約の進捗")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import caching

        # Every save or delete in a report's tree bumps its version: cached pages go stale.
        for model in caching.TRACKED_MODELS:
            uid = f"pledges-version-{model.__name__}"
            post_save.connect(caching.instance_changed, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(caching.instance_changed, sender=model, dispatch_uid=f"{uid}-del")
