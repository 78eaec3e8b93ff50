"""Staff roles 編集者 / 閲覧者: created by migration 0002, kept in step by sync_roles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from pledges import roles

STRUCTURE = ("report", "chapter", "pledge", "subitem", "footnote")


def perms_of(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_migration_created_both_roles_with_their_permissions(db):
    assert perms_of(roles.EDITOR) == set(roles.ROLES[roles.EDITOR])
    assert perms_of(roles.VIEWER) == set(roles.ROLES[roles.VIEWER])


def test_editor_changes_assessments_and_notes_only(db):
    editor = perms_of(roles.EDITOR)

    assert {"change_assessment", "add_progressnote", "change_progressnote",
            "delete_progressnote"} <= editor
    for model in STRUCTURE:
        assert f"view_{model}" in editor
        assert not {f"add_{model}", f"change_{model}", f"delete_{model}"} & editor
    assert "delete_assessment" not in editor


def test_viewer_only_views(db):
    assert all(codename.startswith("view_") for codename in perms_of(roles.VIEWER))


def test_sync_roles_is_idempotent_and_repairs_edited_groups(db):
    group = Group.objects.get(name=roles.EDITOR)
    group.permissions.add(Permission.objects.get(codename="delete_report"))
    Group.objects.filter(name=roles.VIEWER).delete()

    roles.sync_roles()
    roles.sync_roles()

    assert perms_of(roles.EDITOR) == set(roles.ROLES[roles.EDITOR])
    assert perms_of(roles.VIEWER) == set(roles.ROLES[roles.VIEWER])
    assert Group.objects.filter(name__in=roles.ROLES).count() == 2


def test_sync_roles_names_a_permission_that_does_not_exist(db):
    with pytest.raises(LookupError, match="publish_everything"):
        roles.sync_roles({"試験": ("publish_everything",)})


def test_editor_user_has_the_permissions_through_the_group(db):
    user = User.objects.create(username="henshu", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.EDITOR))

    assert user.has_perm("pledges.change_assessment")
    assert not user.has_perm("pledges.delete_report")
    assert not user.has_perm("pledges.change_chapter")
