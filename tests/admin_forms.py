"""Driving the admin's change forms with the test client, as a browser would.

The change page is fetched and every field of the rendered form and of its inline formsets
(management form included) is sent back, with the edit applied.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from pledges.models import Report


def change_url(obj) -> str:
    return reverse(f"admin:pledges_{obj._meta.model_name}_change", args=[obj.pk])


def history_url(obj) -> str:
    return reverse(f"admin:pledges_{obj._meta.model_name}_history", args=[obj.pk])


def report_url(tool: str, report: Report) -> str:
    return reverse(f"admin:pledges_report_{tool}", args=[report.pk])


def form_data(response) -> dict[str, object]:
    """What a browser posts back for the change form in ``response`` when nothing is edited."""
    assert response.status_code == 200
    data: dict[str, object] = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue  # unchecked boxes and empty fields are not sent
            data[form.add_prefix(name)] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def post_change(client: Client, obj, **edits):
    """Fetch the change page of ``obj``, apply ``edits`` (form field names) and post it."""
    page = client.get(change_url(obj))
    data = form_data(page)
    for name, value in edits.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(change_url(obj), data)
