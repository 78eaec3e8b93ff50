"""``manage.py create_staff_user USERNAME --role 編集者|閲覧者``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command

from pledges import roles

GOOD_PASSWORD = "irumashi-kouyaku-2023"


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_staff_user", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def password_env(monkeypatch) -> None:
    monkeypatch.setenv("STAFF_USER_PASSWORD", GOOD_PASSWORD)


def test_creates_an_editor_from_the_environment_password(db, password_env):
    output = run("henshu", "--role", "編集者", "--email", "henshu@example.jp", "--no-input")

    user = User.objects.get(username="henshu")
    assert user.is_staff and not user.is_superuser
    assert user.email == "henshu@example.jp"
    assert user.check_password(GOOD_PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [roles.EDITOR]
    assert user.has_perm("pledges.change_assessment")
    assert "created staff user 'henshu' with role 編集者" in output


def test_english_role_alias_and_viewer(db, password_env):
    run("etsuran", "--role", "viewer", "--no-input")

    user = User.objects.get(username="etsuran")
    assert list(user.groups.values_list("name", flat=True)) == [roles.VIEWER]
    assert user.has_perm("pledges.view_assessment")
    assert not user.has_perm("pledges.change_assessment")


def test_recreates_missing_role_groups_first(db, password_env):
    Group.objects.filter(name__in=roles.ROLES).delete()

    run("henshu", "--role", "編集者", "--no-input")

    assert User.objects.get(username="henshu").has_perm("pledges.add_progressnote")


def test_prompts_twice_for_the_password(db, monkeypatch):
    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    run("henshu", "--role", "編集者")

    assert User.objects.get(username="henshu").check_password(GOOD_PASSWORD)


def test_refuses_two_different_passwords(db, monkeypatch):
    answers = iter([GOOD_PASSWORD, "something-else-entirely"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    with pytest.raises(CommandError, match="differ"):
        run("henshu", "--role", "編集者")
    assert not User.objects.filter(username="henshu").exists()


def test_no_input_without_the_environment_password_is_refused(db, monkeypatch):
    monkeypatch.delenv("STAFF_USER_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="STAFF_USER_PASSWORD"):
        run("henshu", "--role", "編集者", "--no-input")
    assert not User.objects.exists()


def test_weak_password_is_refused_with_the_validators_reason(db, monkeypatch):
    monkeypatch.setenv("STAFF_USER_PASSWORD", "12345678")

    with pytest.raises(CommandError, match="password refused"):
        run("henshu", "--role", "編集者", "--no-input")
    assert not User.objects.exists()


def test_existing_username_is_refused_and_left_alone(db, password_env):
    User.objects.create(username="henshu", is_staff=False)

    with pytest.raises(CommandError, match="already exists"):
        run("henshu", "--role", "編集者", "--no-input")
    assert not User.objects.get(username="henshu").is_staff


def test_unknown_role_is_refused(db, password_env):
    with pytest.raises(CommandError, match="invalid choice"):
        run("henshu", "--role", "admin", "--no-input")
