"""Two-factor sign-in (django-otp): TOTP with backup codes.

Every staff user enrolls at first sign-in; until the session is verified, only the enrolment
(while the user has no confirmed device), verification and sign-out pages answer.
``GENEGATE_REQUIRE_2FA`` turns enforcement off for the demo (`make run` says so); it is on by
default whenever DEBUG is off. HIPAA §164.312(d).

Backup codes are a second factor themselves, so they are made only for a session that has
already proved one: at enrolment right after the first TOTP code is confirmed, or later by a
verified user who re-enters the password (issue 13 item 1: a password-only session could mint
codes and use them to verify).
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import htmx_redirect, is_htmx, page_path
from common.params import local_path

BACKUP_CODE_COUNT = 10
# Paths an authenticated but unverified user may reach: enrolment, verification, sign-out.
# Exact pages, not the /accounts/2fa/ prefix: backup codes must stay behind the second factor.
OPEN_PATHS = ("/accounts/2fa/setup/", "/accounts/2fa/verify/", "/accounts/logout/", "/healthz", "/static/")


def fully_signed_in(user) -> bool:
    """Signed in, and with the second factor verified when it is required."""
    if user is None or not user.is_authenticated:
        return False
    return not settings.GENEGATE_REQUIRE_2FA or bool(getattr(user, "is_verified", lambda: False)())


class TwoFactorMiddleware:
    """Send signed-in users without a verified second factor to enrolment or verification."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.GENEGATE_REQUIRE_2FA
            and user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(OPEN_PATHS)
        ):
            target = "two_factor_verify" if user_has_device(user) else "two_factor_setup"
            url = f"{reverse(target)}?{urlencode({'next': page_path(request)})}"
            # An htmx request (the navbar badge's poll) must not get the enrolment page
            # swapped into its element: the whole page goes there instead.
            return htmx_redirect(url) if is_htmx(request) else redirect(url)
        return self.get_response(request)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app, or a backup code",
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "").strip()
        if not token.isalnum():
            raise forms.ValidationError("Enter the 6-digit code or a backup code (letters and digits only).")
        return token


class PasswordConfirmForm(forms.Form):
    """A verified user re-enters the password before new backup codes replace the old ones."""

    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), strip=False
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through the authentication backends, so axes counts wrong passwords here too.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError("That is not your password; your backup codes were not changed.")
        return password


def _safe_next(request) -> str:
    return local_path(request.POST.get("next") or request.GET.get("next")) or reverse("home")


def _qr_svg_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def setup(request):
    """Enrol a TOTP device: show the QR code, confirm with a first code, then show backup codes."""
    if user_has_device(request.user):
        return redirect("two_factor_verify")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    form.fields["token"].label = "6-digit code from your authenticator app"
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                codes = _new_backup_codes(request.user)
            otp_login(request, device)
            return render(request, "two_factor/backup_codes.html", {"codes": codes, "next": _safe_next(request)})
        form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "two_factor/setup.html",
        {"form": form, "qr": _qr_svg_data_uri(device.config_url), "secret": secret, "next": _safe_next(request)},
    )


def verify(request):
    """Verify this session with a TOTP code or a one-time backup code."""
    if not user_has_device(request.user):
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = StaticToken.objects.filter(device=device).count()
                messages.warning(request, f"Backup code used. {left} backup codes left.")
            return redirect(_safe_next(request))
        form.add_error("token", "That code is not valid. Codes change every 30 seconds; backup codes work once.")
    return render(request, "two_factor/verify.html", {"form": form, "next": _safe_next(request)})


def backup_codes(request):
    """Replace the backup codes — the old ones stop working.

    Only a session verified with a second factor may do this, and only after re-entering the
    password (GET shows the form). A half-signed-in session (password only) is sent to
    verification and nothing changes, whatever GENEGATE_REQUIRE_2FA says.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if not user.is_verified():
        target = "two_factor_verify" if user_has_device(user) else "two_factor_setup"
        return redirect(target)
    form = PasswordConfirmForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid():
        codes = _new_backup_codes(user)
        return render(request, "two_factor/backup_codes.html", {"codes": codes, "next": reverse("home")})
    return render(request, "two_factor/backup_codes_confirm.html", {"form": form})


@transaction.atomic
def _new_backup_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name="Backup codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes
