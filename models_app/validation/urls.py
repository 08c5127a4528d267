"""URL patterns; included by models_app/urls.py."""

urlpatterns: list = []
