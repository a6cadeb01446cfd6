"""The outbox becomes generic: a message names its subject (subject_type, subject_id) instead of an appointment.

One way for data: the appointment, office and times of each existing message
move into ``context`` (and ``scope`` for the office's list), reminders become
at-most-once messages with a unique key and their appointment's start as
expiry. Going back would need the appointment foreign key of messages whose
subject may not be an appointment, so it goes back only with an empty outbox
(the last operation refuses otherwise, before any column changes).
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models
from django.db.migrations.exceptions import IrreversibleError
from django.db.models import Q


def only_an_empty_outbox_goes_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    if apps.get_model("notifications", "Message").objects.exists():
        raise IrreversibleError(
            "notifications 0003 goes back only with an empty outbox: messages may be about other subjects"
        )


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Message = apps.get_model("notifications", "Message")
    for message in Message.objects.select_related("appointment").order_by("pk").iterator(chunk_size=2000):
        reminder = message.kind == "reminder"
        Message.objects.filter(pk=message.pk).update(
            subject_type="appointment",
            subject_id=message.appointment_id,
            scope=f"office:{message.office_id}",
            context={
                "office": message.office_id,
                "start": message.start.isoformat(),
                "end": message.end.isoformat(),
                "sequence": message.sequence,
                "code": message.appointment.booking_code,
                "reason": message.reason,
            },
            at_most_once=reminder,
            once_key=(
                f"appointment:{message.appointment_id}:{message.sequence}:{message.channel}:reminder"
                if reminder
                else None
            ),
            expires_at=message.start if reminder else None,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_message_lease"),
        ("booking", "0006_appointment_hold_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="subject_type",
            field=models.CharField(default="appointment", max_length=40, verbose_name="subject type"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="message",
            name="subject_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="subject"),
        ),
        migrations.AddField(
            model_name="message",
            name="context",
            field=models.JSONField(
                blank=True, default=dict, encoder=DjangoJSONEncoder, verbose_name="subject at the time"
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="scope",
            field=models.CharField(blank=True, max_length=64, verbose_name="scope"),
        ),
        migrations.AddField(
            model_name="message",
            name="at_most_once",
            field=models.BooleanField(default=False, verbose_name="at most once"),
        ),
        migrations.AddField(
            model_name="message",
            name="once_key",
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name="key of the only one"),
        ),
        migrations.AddField(
            model_name="message",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="not sent at or after"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="message",
            name="once_key",
            field=models.CharField(
                blank=True, max_length=200, null=True, unique=True, verbose_name="key of the only one"
            ),
        ),
        migrations.RemoveConstraint(model_name="message", name="message_one_reminder_per_version"),
        migrations.RemoveIndex(model_name="message", name="notificatio_office__8e6e83_idx"),
        migrations.RemoveField(model_name="message", name="appointment"),
        migrations.RemoveField(model_name="message", name="office"),
        migrations.RemoveField(model_name="message", name="start"),
        migrations.RemoveField(model_name="message", name="end"),
        migrations.RemoveField(model_name="message", name="sequence"),
        migrations.RemoveField(model_name="message", name="reason"),
        migrations.AlterField(
            model_name="message",
            name="kind",
            field=models.CharField(max_length=40, verbose_name="kind"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=Q(once_key__isnull=True) | Q(at_most_once=True), name="message_once_key_only_at_most_once"
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["subject_type", "subject_id"], name="message_subject"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["scope", "status"], name="message_scope_status"),
        ),
        # Runs first when going back.
        migrations.RunPython(migrations.RunPython.noop, only_an_empty_outbox_goes_back, elidable=False),
    ]
