import os

from django.core.wsgi import get_wsgi_application

from site_project.request_limits import CompleteBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_project.settings")

# A request whose client disconnected mid-body never reaches a view (see request_limits).
application = CompleteBodyMiddleware(get_wsgi_application())
