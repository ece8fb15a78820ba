"""Top-level routes: the API, its docs, the admin, the chat page; JSON errors for anything under /api/."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from conversations.pages import ChatPageView, ProvenanceFragmentView
from observability.views import metrics_view
from conversations.views import RootView

from .exceptions import not_found

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include("conversations.urls")),
    path("api/v1/", include("datasets.urls")),
    re_path(r"^api/", not_found),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
    path("chat/", ChatPageView.as_view(), name="chat"),
    path("chat/<str:thread_id>/", ChatPageView.as_view(), name="chat-thread"),
    path(
        "chat/<str:thread_id>/messages/<str:message_id>/provenance/",
        ProvenanceFragmentView.as_view(),
        name="chat-provenance",
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]

handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
