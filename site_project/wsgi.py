import os

from django.core.wsgi import get_wsgi_application

from site_project.request_limits import CompleteBodyMiddleware
from site_project.secret_key import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_project.settings")

django_application = get_wsgi_application()
require_secret_key()  # gunicorn must not start without one

# A request whose client disconnected mid-body never reaches a view (see request_limits).
application = CompleteBodyMiddleware(django_application)
