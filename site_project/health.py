"""Health endpoints for load balancers and the benchmark."""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def live(request):
    """The process answers: no database, cache or template touched."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def ready(request):
    """The process answers and its database does."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not ready", never a 500
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
