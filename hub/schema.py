"""OpenAPI (drf-spectacular): the hub's authentication classes, and dataset names for the dataset API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An access token (thub_…), read or write scope."}


class HubAutoSchema(AutoSchema):
    """The dataset API (``/api/datasets...``) is served by the model views: its operations say dataset.

    Done on the whole operation, since ``extend_schema(operation_id=...)`` fixes the model's id.
    """

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation and self.path.startswith("/api/datasets"):
            for key in ("operationId", "summary"):
                if key in operation:
                    operation[key] = operation[key].replace("model", "dataset").replace("Model", "Dataset")
        return operation
