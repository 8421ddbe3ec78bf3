from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import two_factor
from accounts import views as account_views
from common import views as common_views
from monitoring.home import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    path("session/keepalive", account_views.keepalive, name="keepalive"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/setup/", two_factor.setup, name="two_factor_setup"),
    path("accounts/2fa/verify/", two_factor.verify, name="two_factor_verify"),
    path("accounts/2fa/backup-codes/", two_factor.backup_codes, name="two_factor_backup_codes"),
    path("cases/", include("cases.urls")),
    path("billing/", include("billing.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
]
