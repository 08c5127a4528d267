"""Root URLs. App URLs come last: ``/<owner>/<name>/...`` catches what is left."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from hub import metrics, org_api, org_views, views

ONE_SEGMENT_TAILS = (
    "revision|tree|paths-info|commits|refs|auth-check|preupload|commit|discussions|branch|tag|settings|like|likers"
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.healthz, name="readyz"),  # the same checks, under the name probes expect
    path("livez", views.livez, name="livez"),  # answered by hub/observe.py before Django; here for WSGI
    path("metrics", metrics.metrics, name="metrics"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/tokens/", views.tokens, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("api/whoami-v2", views.whoami, name="api_whoami"),
    path("api/organizations", org_api.organizations, name="api_organizations"),
    path("api/organizations/<str:org>", org_api.organization_detail, name="api_organization"),
    path("api/organizations/<str:org>/members", org_api.organization_members, name="api_organization_members"),
    path("organizations/new", org_views.org_new, name="org_new"),
    path("organizations/<str:org>/members", org_views.org_members, name="org_members"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", views.api_docs, name="api_docs"),
    path("", include("models_app.dataset_urls")),  # "/datasets/<owner>/<name>..." before any "/<owner>/<name>/..."
    path("", include("discussions.urls")),
    path("", include("models_app.urls")),
    # Last: what no route above took answers in the HF client's JSON error shape, debug mode included.
    # A one-segment repo id ("gpt2") names no repo here: every repo lives under an owner.
    re_path(
        rf"^api/(?:models|datasets)/(?P<repo_path>[^/]+)(?:/(?:{ONE_SEGMENT_TAILS})(?:/.*)?)?$",
        views.api_not_found,
        name="api_repo_not_found",
    ),
    re_path(r"^(?:datasets/)?(?P<repo_path>[^/]+)/resolve/.*$", views.api_not_found, name="resolve_repo_not_found"),
    re_path(r"^api/", views.api_not_found, name="api_not_found"),
]

handler400 = "hub.views.bad_request"
handler403 = "hub.views.permission_denied"
handler404 = "hub.views.page_not_found"
handler500 = "hub.views.server_error"
