from django.conf import settings

SITE_NAME = "Clear Skin Notes"


def site(request):
    """The absolute base URL, for canonical links and feeds."""
    return {"SITE_URL": settings.SITE_URL, "SITE_NAME": SITE_NAME}
