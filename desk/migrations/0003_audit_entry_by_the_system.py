"""An audit entry may be the system's (no person): the nightly rebuild marking what no longer fits.

SQLite alters a column by copying the table, which drops its triggers: the
one refusing changes (0002) is installed again on the new table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS desk_auditentry_no_change BEFORE UPDATE ON desk_auditentry
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
"""


def reinstall(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0002_audit_entries_cannot_change"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by",
            ),
        ),
        migrations.RunPython(reinstall, reinstall),
    ]
