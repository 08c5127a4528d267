"""Finding and reusing models: browse, search, a repo's info and the model pages.

The read side of the REST API and the website; the raw bytes go out through
reuse/downloads.py (a raw-bytes route, models_app/bytes_routes.py).
"""
