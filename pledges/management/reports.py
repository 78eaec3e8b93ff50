"""What more than one command needs: the report a ``--report YYYY-MM`` option names."""

from __future__ import annotations

from django.core.management.base import CommandError

from pledges.models import Report


def report_for(month: str | None) -> Report:
    """The report for ``month`` in any status (staff tools may export and import drafts), or the
    newest published one when ``month`` is None; CommandError naming the known months when there
    is no such report."""
    if month is None:
        report = Report.objects.latest_published()
        if report is None:
            raise CommandError("there is no published report yet; name one with --report YYYY-MM")
        return report
    report = Report.objects.for_month(month).first()
    if report is None:
        known = ", ".join(r.month for r in Report.objects.order_by("as_of"))
        raise CommandError(
            f"no report for {month!r} (expected YYYY-MM; reports: {known or 'none'})"
        )
    return report
