"""Creating the staff groups (Editors, Moderators) from data migrations."""

from django.contrib.auth.management import create_permissions


def ensure_group(apps, name, permissions):
    """Create or update group `name` to hold exactly `permissions` ("app_label.codename").

    Permissions are normally created after migrate finishes; creating them here
    lets a data migration on a fresh database grant them straight away.
    """
    for app_config in apps.get_app_configs():
        # A migration's app configs have no models module, which create_permissions()
        # requires; the project's own (a test helper passes them) keep theirs, or
        # the next migrate or test flush would skip their permissions.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=name)
    wanted = []
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    group.permissions.set(wanted)
    return group
