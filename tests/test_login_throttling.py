"""Admin login throttling with django-axes: repeated failures lock a username/address pair, and
many failures from one address lock that address whatever the usernames."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "clerk", password=PASSWORD, is_staff=True, is_superuser=True
    )


def attempt(client, password: str, address: str = "192.0.2.10"):
    return client.post(
        reverse("admin:login"),
        {"username": "clerk", "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


def test_failed_logins_up_to_the_limit_show_the_form_again(client, staff):
    for _ in range(settings.LOGIN_FAILURES_PER_USER - 1):
        assert attempt(client, "wrong").status_code == 200
    assert attempt(client, PASSWORD).status_code == 302


def test_locked_after_the_limit_even_with_the_right_password(client, staff):
    for _ in range(settings.LOGIN_FAILURES_PER_USER):
        attempt(client, "wrong")
    locked = attempt(client, PASSWORD)
    assert locked.status_code == 429
    assert "ログインを一時停止しています" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="clerk").failures_since_start >= 5


def test_lock_is_per_address_so_an_attacker_cannot_lock_staff_out(client, staff):
    for _ in range(settings.LOGIN_FAILURES_PER_USER):
        attempt(client, "wrong", address="198.51.100.66")
    assert attempt(client, PASSWORD, address="192.0.2.10").status_code == 302


def test_success_resets_the_count(client, staff):
    for _ in range(settings.LOGIN_FAILURES_PER_USER - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.LOGIN_FAILURES_PER_USER - 1):
        attempt(client, "wrong")
    assert attempt(client, PASSWORD).status_code == 302


def test_behind_a_proxy_the_forwarded_address_is_throttled(client, staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for _ in range(settings.LOGIN_FAILURES_PER_USER):
        client.post(
            reverse("admin:login"), {"username": "clerk", "password": "wrong"},
            REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="forged, 203.0.113.9",
        )
    assert AccessAttempt.objects.get(username="clerk").ip_address == "203.0.113.9"
    other_client = client.post(
        reverse("admin:login"), {"username": "clerk", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    assert other_client.status_code == 302


def test_a_forwarded_address_from_an_untrusted_client_is_ignored(client, staff, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    for number in range(settings.LOGIN_FAILURES_PER_USER):
        client.post(
            reverse("admin:login"), {"username": "clerk", "password": "wrong"},
            REMOTE_ADDR="198.51.100.66", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}",
        )
    assert AccessAttempt.objects.get(username="clerk").ip_address == "198.51.100.66"
    assert attempt(client, PASSWORD, address="198.51.100.66").status_code == 429


def guess(client, number: int, address: str = "198.51.100.7"):
    return client.post(
        reverse("admin:login"), {"username": f"guess{number % 20}", "password": "wrong"},
        REMOTE_ADDR=address,
    )


def test_one_address_guessing_many_usernames_is_locked_after_the_per_address_limit(
    client, staff
):
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    # 80 guesses at 20 usernames: 4 each, never the per-user limit.
    statuses = [guess(client, number).status_code for number in range(80)]
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    # The whole address, staff included; other addresses are not concerned.
    assert attempt(client, PASSWORD, address="198.51.100.7").status_code == 429
    assert attempt(client, PASSWORD, address="192.0.2.10").status_code == 302


def test_logging_in_does_not_clear_an_address_guesses_at_other_accounts(client, staff):
    limit = settings.LOGIN_FAILURES_PER_ADDRESS
    for number in range(limit - 1):
        assert guess(client, number).status_code == 200
    assert attempt(client, PASSWORD, address="198.51.100.7").status_code == 302
    client.logout()
    assert guess(client, limit).status_code == 429


def test_test_client_login_still_works(client, staff):
    assert client.login(username="clerk", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200
