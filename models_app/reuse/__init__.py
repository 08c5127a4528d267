"""Finding and reusing models: browse, search, a repo's info and the model pages.

The read side of the REST API and the website; the raw bytes go out through
models_app.downloads.
"""
