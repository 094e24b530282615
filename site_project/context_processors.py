from django.conf import settings


def site(request):
    """The absolute base URL, for canonical links and feeds."""
    return {"SITE_URL": settings.SITE_URL, "SITE_NAME": "Clear Skin Notes"}
