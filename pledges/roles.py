"""Staff roles as auth Groups: what 編集者 (editors) and 閲覧者 (read-only staff) may do.

Superusers do everything and need no group. Editors keep the table up to date between
publications: they change assessments (rating, footnote choice) and add/change/delete progress
notes, and see everything else read-only; they cannot delete reports nor change the structure
(reports, chapters, pledges, sub-items, footnotes). Creating drafts and publishing needs
``add_report`` / ``change_report``, i.e. a superuser (or a group given those permissions).

``sync_roles`` is idempotent: it creates missing groups and sets each group's permissions to
exactly what ROLES says. Migrations 0002 and 0008 hold frozen copies of this table, as
migrations must.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import transaction

EDITOR = "編集者"
VIEWER = "閲覧者"

PLEDGE_MODELS = (
    "manifesto", "report", "statedtotal", "chapter", "pledge", "subitem", "footnote", "assessment",
    "progressnote",
)
VIEW_ALL = tuple(f"view_{model}" for model in PLEDGE_MODELS)

ROLES: dict[str, tuple[str, ...]] = {
    EDITOR: (
        *VIEW_ALL,
        "change_assessment",
        "add_progressnote",
        "change_progressnote",
        "delete_progressnote",
    ),
    VIEWER: VIEW_ALL,
}


def sync_roles(roles: dict[str, tuple[str, ...]] = ROLES, *, apps=global_apps) -> None:
    """Create or update one Group per role with exactly the ``pledges`` permissions listed.

    Raises LookupError naming a permission that does not exist (permissions are created by
    ``migrate``'s post_migrate step; migration 0002 creates them itself first).
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    with transaction.atomic():
        for name, codenames in roles.items():
            permissions = list(
                Permission.objects.filter(
                    content_type__app_label="pledges", codename__in=codenames
                )
            )
            missing = set(codenames) - {permission.codename for permission in permissions}
            if missing:
                raise LookupError(f"permissions missing for role {name}: {sorted(missing)}")
            group, _created = Group.objects.get_or_create(name=name)
            group.permissions.set(permissions)
