"""Staff roles 編集者 / 閲覧者 as auth Groups.

Django creates permissions in a post_migrate signal, i.e. after *all* migrations ran, so on a
fresh database they do not exist yet when this runs: create them for this app first. The role
table is a frozen copy of ``pledges.roles.ROLES`` as of this migration; later changes to the roles
go through ``pledges.roles.sync_roles`` (run by ``manage.py create_staff_user``) or a new migration.
Running it again changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = tuple(
    f"view_{model}"
    for model in (
        "report", "statedtotal", "chapter", "pledge", "subitem", "footnote", "assessment",
        "progressnote",
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


def create_roles(apps, schema_editor):
    app_config = apps.get_app_config("pledges")
    # create_permissions skips app configs without a models module, which is always the case
    # for the historical app registry of a migration.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        permissions = list(
            Permission.objects.using(schema_editor.connection.alias).filter(
                content_type__app_label="pledges", codename__in=codenames
            )
        )
        if len(permissions) != len(codenames):
            raise RuntimeError(f"permissions missing for role {name}")
        group, _created = Group.objects.using(schema_editor.connection.alias).get_or_create(
            name=name
        )
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    # Named 0002_issue5_roles until renamed: a database that applied it under that name counts
    # this one as applied.
    replaces = [("pledges", "0002_issue5_roles")]

    dependencies = [
        ("pledges", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
