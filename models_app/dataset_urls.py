"""The dataset pages, tried before any other app's routes (hub/urls.py includes this first).

``/datasets/<owner>/<name>`` has one segment more than a model's
``/<owner>/<name>``, so a dataset named like a model page (``upload``,
``settings``, ``commits``, ``validation``, ``discussion``) would otherwise be
read as that page of a model owned by "datasets" (a reserved name) and answer
404. The bytes app still comes first for resolve and uploads.
"""

from models_app.publish.urls import dataset_urlpatterns as publish_dataset_urls
from models_app.reuse.urls import dataset_urlpatterns as reuse_dataset_urls

urlpatterns = [*reuse_dataset_urls, *publish_dataset_urls]
