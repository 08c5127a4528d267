"""Getting bytes in: uploads streamed, hashed and bounded while they arrive.

Ingest and staged files (uploads.py), disk writes, multipart forms, the service
that turns an upload into a revision, and the pages and REST API that create,
rename, tag and upload to repos.
"""
