"""How the Hugging Face protocol endpoints appear in the OpenAPI schema.

Their bodies are the HF client's (ndjson, git-lfs+json, free-form JSON), so the
schema names them and their purpose without a serializer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema


def hf_schema(summary: str):
    return extend_schema(
        tags=["Hugging Face protocol"], summary=summary, request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT
    )
