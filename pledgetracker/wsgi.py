"""WSGI entry point: ``gunicorn pledgetracker.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledgetracker.settings")

application = get_wsgi_application()
