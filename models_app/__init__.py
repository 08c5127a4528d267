"""The model store: repos and what people do with them, one package per capability.

Django app plumbing stays here (models, apps, urls, middleware, tasks, migrations,
management, templates) with the storage sweeper and the request bounds every
capability reads; the rest lives in repos/, publish/, reuse/, hf/, xet/,
validation/, engagement/ and storage/ (docs/architecture.md).
"""
