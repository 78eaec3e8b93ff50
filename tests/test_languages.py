"""English UI, by Accept-Language or the header's links; the city's data stays Japanese."""

from __future__ import annotations

import gettext
import shutil
import subprocess

import pytest
from django.conf import settings
from pytest_django.asserts import assertContains, assertNotContains

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("real_report_for_module")]


def test_japanese_by_default(client, report_2022):
    response = client.get("/")
    assertContains(response, '<html lang="ja">')
    assertContains(response, "章ごとの進み具合")
    assertNotContains(response, "Progress by chapter")


def test_accept_language_en_gets_english_ui_and_japanese_data(client, report_2022):
    response = client.get("/", headers={"accept-language": "en-US,en;q=0.9"})
    assertContains(response, '<html lang="en">')
    assertContains(response, "Progress by chapter")
    assertContains(response, "Skip to content")
    assertNotContains(response, "章ごとの進み具合")
    # The report's title is the city's own text.
    assertContains(response, "市長公約(政策宣言)進捗状況一覧表【令和4年3月現在】")


def test_each_language_is_cached_apart(client, report_2022):
    assertContains(client.get("/chapters/1/", headers={"accept-language": "en"}), 'lang="en"')
    assertContains(client.get("/chapters/1/"), '<html lang="ja">')
    assertContains(client.get("/chapters/1/", headers={"accept-language": "en"}), 'lang="en"')


def test_header_links_switch_language_and_return_to_the_page(client, report_2022):
    page = client.get("/chapters/1/").content.decode()
    assert 'href="/lang/en/?next=/chapters/1/"' in page

    response = client.get("/lang/en/", {"next": "/chapters/1/"})
    assert response.status_code == 302
    assert response["Location"] == "/chapters/1/"
    assert response.cookies["django_language"].value == "en"
    assert response.cookies["django_language"]["max-age"] == 60 * 60 * 24 * 365

    english = client.get("/chapters/1/")
    assertContains(english, '<html lang="en">')
    assertContains(english, 'href="/lang/ja/?next=/chapters/1/"')

    client.get("/lang/ja/", {"next": "/"})
    assertContains(client.get("/chapters/1/"), '<html lang="ja">')


def test_keeps_the_report_asked_for_when_switching(client, report_2022):
    page = client.get("/chapters/1/?report=2022-03").content.decode()
    assert 'href="/lang/en/?next=/chapters/1/%3Freport%3D2022-03"' in page
    response = client.get("/lang/en/", {"next": "/chapters/1/?report=2022-03"})
    assert response["Location"] == "/chapters/1/?report=2022-03"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "\\\\evil", ""])
def test_never_redirects_off_site(client, target):
    response = client.get("/lang/en/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_unknown_language_is_not_found(client):
    assert client.get("/lang/fr/").status_code == 404


def test_every_english_entry_is_translated_and_the_committed_mo_matches_the_po(tmp_path):
    """The .mo is committed (no gettext needed to serve): it must be the .po compiled."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "needs Debian's gettext (bin/test installs it as root; apt-get install gettext)"
    catalogue = settings.BASE_DIR / "locale/en/LC_MESSAGES"
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-wrap", str(catalogue / "django.po")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "msgid \"" not in untranslated.replace('msgid ""\nmsgstr ""', "", 1)
    compiled = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(compiled), str(catalogue / "django.po")],
                   check=True, capture_output=True)
    with compiled.open("rb") as fresh, (catalogue / "django.mo").open("rb") as committed:
        expected = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
        assert gettext.GNUTranslations(committed)._catalog == expected  # type: ignore[attr-defined]
