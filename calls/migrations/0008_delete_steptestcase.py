from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("calls", "0007_test_cases_to_scenarios")]

    operations = [migrations.DeleteModel(name="StepTestCase")]
