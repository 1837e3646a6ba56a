from django.db import migrations, models
from django.db.models import F

import django.utils.timezone


def existing_users_are_verified(apps, schema_editor):
    """Every account made before public sign-up came by a command, the admin or an invitation:
    it keeps logging in, verified since it joined."""
    User = apps.get_model("workspaces", "User")
    User.objects.update(email_verified_at=F("date_joined"))


class Migration(migrations.Migration):
    dependencies = [("workspaces", "0011_alerts")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_verified_at",
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
        migrations.RunPython(existing_users_are_verified, migrations.RunPython.noop),
    ]
