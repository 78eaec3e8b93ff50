"""Footnotes ordered by the N of ※N; the 「・」 of the progress notes belongs to the assessment.

``Footnote.number`` is filled from each marker (history rows included); an assessment's
``notes_bulleted`` is whether all its notes were bulleted (True when it has none), as the
per-note flags were only ever all set or all cleared for one sub-item.
"""

import re
import unicodedata

from django.db import migrations, models


def marker_number(marker):
    # A frozen copy of pledges.models.footnote_number as of this migration.
    digits = re.search(r"\d+", unicodedata.normalize("NFKC", marker))
    return int(digits[0]) if digits else 0


def fill_forward(apps, schema_editor):
    for name in ("Footnote", "HistoricalFootnote"):
        model = apps.get_model("pledges", name)
        for row in model.objects.only("pk", "marker").iterator():
            model.objects.filter(pk=row.pk).update(number=marker_number(row.marker))
    Assessment = apps.get_model("pledges", "Assessment")
    Assessment.objects.filter(notes__bulleted=False).update(notes_bulleted=False)


def fill_backward(apps, schema_editor):
    ProgressNote = apps.get_model("pledges", "ProgressNote")
    ProgressNote.objects.filter(assessment__notes_bulleted=False).update(bulleted=False)


class Migration(migrations.Migration):

    dependencies = [
        ('pledges', '0005_rating_codes_from_the_scale'),
    ]

    operations = [
        migrations.AddField(
            model_name='assessment',
            name='notes_bulleted',
            field=models.BooleanField(default=True, help_text='公表時に「・」が付いていなかった単独の記述だけ外れています。', verbose_name='取組状況に「・」を付ける'),
        ),
        migrations.AddField(
            model_name='historicalassessment',
            name='notes_bulleted',
            field=models.BooleanField(default=True, help_text='公表時に「・」が付いていなかった単独の記述だけ外れています。', verbose_name='取組状況に「・」を付ける'),
        ),
        migrations.AddField(
            model_name='footnote',
            name='number',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='番号'),
        ),
        migrations.AddField(
            model_name='historicalfootnote',
            name='number',
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name='番号'),
        ),
        migrations.RunPython(fill_forward, fill_backward),
        migrations.AlterModelOptions(
            name='footnote',
            options={'ordering': ['report', 'number'], 'verbose_name': '注記', 'verbose_name_plural': '注記'},
        ),
        migrations.RemoveField(
            model_name='historicalprogressnote',
            name='bulleted',
        ),
        migrations.RemoveField(
            model_name='progressnote',
            name='bulleted',
        ),
    ]
