"""Both staff roles see manifestos (read-only; superusers edit them).

A frozen copy of ``pledges.roles.ROLES`` as of this migration, applied the way 0002 applies its
own: the permissions of the new model are created first, as post_migrate has not run yet.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = tuple(
    f"view_{model}"
    for model in (
        "manifesto", "report", "statedtotal", "chapter", "pledge", "subitem", "footnote",
        "assessment", "progressnote",
    )
)
ROLES = {
    "編集者": (
        *VIEW_ALL,
        "change_assessment",
        "add_progressnote",
        "change_progressnote",
        "delete_progressnote",
    ),
    "閲覧者": VIEW_ALL,
}


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("pledges")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = Group.objects.using(alias).filter(name=name).first()
        if group is None:
            continue  # removed on purpose: nothing to extend
        group.permissions.add(
            *Permission.objects.using(alias).filter(
                content_type__app_label="pledges", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [("pledges", "0007_manifestos")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
