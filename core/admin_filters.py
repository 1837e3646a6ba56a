"""Admin list filters shared by the apps whose objects go to Recently deleted."""

from django.contrib import admin


class DeletedFilter(admin.SimpleListFilter):
    """Live or Recently deleted, for any model with a `deleted_at` field."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("live", "Live"), ("deleted", "Recently deleted"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset
