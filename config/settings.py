"""GeneGate settings: one module, read from the environment through config.env's strict helpers.

Safe development defaults; `make run` turns DEBUG on. Production sets GENEGATE_DEBUG=0 (the
default), SECRET_KEY (or SECRET_KEY_FILE), ALLOWED_HOSTS and DATABASE_URL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("GENEGATE_DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env_bool("GENEGATE_DEBUG", False)
# Django's technical 404 (every URL pattern) and 500 (traceback) pages: off even in the demo
# (`make run`, DEBUG on) unless a developer turns them on (common/middleware.py).
GENEGATE_DEBUG_PAGES = env_bool("GENEGATE_DEBUG_PAGES", False)
TESTING = env_bool("GENEGATE_TESTING", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG or TESTING else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "crispy_forms",
    "crispy_bootstrap5",
    "auditlog",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "common",
    "accounts",
    "cases",
    "monitoring",
    "billing",
    "demo",
]

MIDDLEWARE = [
    # Outermost: the product's 404/500 pages even with DEBUG on, unless GENEGATE_DEBUG_PAGES.
    "common.middleware.FriendlyErrorPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: no-store, private on every response to a signed-in user (issue 13).
    "accounts.middleware.NoStoreForSignedInMiddleware",
    # Control characters stripped from every query parameter and form field (issue 13).
    "accounts.middleware.ControlCharacterMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",  # Django's, htmx-aware
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
    # Times on screen in the zone of the user's site (issue 14 item 8).
    "accounts.middleware.SiteTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # AxesMiddleware must be last: it turns lockouts raised below it into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# Form widgets (inputs, selects, their attributes) render through Django's own Jinja2 widget
# templates: the same HTML as the Django-template versions in about half the time; widgets
# that exist only as Django templates (the admin's) fall back to them. Pages still use Django
# templates and crispy-forms.
FORM_RENDERER = "common.forms_renderer.JinjaFirstRenderer"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'genegate.sqlite3'}"),
        # Persistent connections: opening one costs PostgreSQL a process and its catalog caches
        # (several ms of CPU) on every request otherwise. Checked before reuse.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, worker and beat read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP queries: PostgreSQL's JIT spent 4 s compiling the reminder sweep's 40 ms query
    # (demo/bench/reminders.py at 10,000 cases). Off for this app's connections.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    # Per-process memory. Shared state between processes lives in Redis (common/fragments.py
    # keeps only generation tokens there, never patient data).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "genegate-default"},
    # Rendered fragments with patient data (common/fragments.py): bounded, per process.
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "genegate-fragments",
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

AUTHENTICATION_BACKENDS = [
    # Axes first, so a locked-out username+address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Tests create many users; Argon2 stays first in production and `make run`.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes): per username *and* address, with a cool-off. The response is
# the same whether or not the username exists.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions: idle logout after 15 minutes, absolute after 12 hours (accounts.middleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("SESSION_IDLE_MINUTES", 15))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("SESSION_ABSOLUTE_HOURS", 12))
SESSION_IDLE_WARNING = timedelta(minutes=2)
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Two-factor sign-in (django-otp, TOTP + backup codes): on unless a setting turns it off.
GENEGATE_REQUIRE_2FA = env_bool("GENEGATE_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = "GeneGate"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
# One date style on every screen, "3 Dec 2026" (config/formats/en/formats.py; common/wording.py).
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Bootstrap from the npm registry (package.json + package-lock.json), never a CDN.
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
MEDIA_ROOT = DATA_DIR / "media"  # documents are served only through access-checked views
MEDIA_URL = "/_media-not-served/"  # documents are streamed by access-checked views only

# Uploads: one document per request is the norm; refuse floods early.
DATA_UPLOAD_MAX_NUMBER_FILES = 5
DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
# What a document may cost to render, not just store (issue 13 item 3): a 355 KB PDF of 3,000
# pages or a 17.5 KB PNG of 12,000 × 12,000 pixels passes the byte limit. A lab or genetic report
# has a few pages; a letter page scanned at 300 dpi is about 8.4 megapixels, a phone photo 12-24.
DOCUMENT_MAX_PDF_PAGES = 100
DOCUMENT_MAX_PIXELS = 25_000_000

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Redis and Celery.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6390/0")
# Rendered regions cached per process under a Redis generation token (common/fragments.py).
FRAGMENT_CACHE = env_bool("GENEGATE_FRAGMENT_CACHE", True)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-send leaves the task to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
# A worker child that grew past this many KiB (a large packet render) is replaced after its task
# (issue 13 item 3); the packet task also has soft/hard time limits (billing/tasks.py).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 1_500_000)
PACKET_SOFT_SECONDS = env_int("PACKET_SOFT_SECONDS", 120)
# Reminders (monitoring/reminders/sweep.py): a row left in "sending" longer than this (a worker killed
# mid-send) is claimed again and retried.
REMINDER_VISIBILITY_SECONDS = env_int("REMINDER_VISIBILITY_SECONDS", 600)
# Electronic prior authorization (billing/pas/): the deadline of one exchange with a payer, how
# many automatic attempts a request gets (waiting PAS_RETRY_BASE_SECONDS × 4^n between them), and
# how often a pended request's status is asked for (Claim/$inquire).
PAS_TIMEOUT_SECONDS = env_int("PAS_TIMEOUT_SECONDS", 30)
PAS_MAX_ATTEMPTS = env_int("PAS_MAX_ATTEMPTS", 4)
PAS_RETRY_BASE_SECONDS = env_int("PAS_RETRY_BASE_SECONDS", 30)
PAS_INQUIRY_SECONDS = env_int("PAS_INQUIRY_SECONDS", 900)

# E-mail: console in development, file in tests/demo, SMTP in production.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "GeneGate <no-reply@genegate.invalid>")
# The address links in e-mails start with. Required in production: `check --deploy` refuses an
# unset, loopback or plain-http SITE_URL (common/checks.py).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG or TESTING else "")

# Security headers. check --deploy passes with production settings (tests/test_deploy.py).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not (DEBUG or TESTING))
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if (DEBUG or TESTING) else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

# Content Security Policy: no inline script anywhere; htmx is configured (base.html meta
# htmx-config) not to inject its indicator styles, so no inline style is needed either.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Logging: no patient data goes in logs; messages name ids only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every layout step at INFO; keep its warnings (e.g. a refused resource).
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

AUDITLOG_INCLUDE_ALL_MODELS = False
LOGIN_URL_PATH = "/accounts/login/"
