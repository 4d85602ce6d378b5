"""Upline settings: one file, configured from the environment (see .env.example).

Development defaults need no server: SQLite under var/ and kombu's filesystem broker.
DATABASE_URL / CELERY_BROKER_URL / CACHE_URL switch to PostgreSQL and Redis.
"""

from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("UPLINE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-secret-key-do-not-use-in-prod")
else:
    # Why: a production deployment with a guessable key can forge sessions and reset tokens.
    try:
        SECRET_KEY = env("DJANGO_SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=false") from exc

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies (load balancer, TLS terminator) sit in front of the app. Rate limits
# take the client address from X-Forwarded-For only when this is set (accounts.authentication).
UPLINE_TRUSTED_PROXY_COUNT = env.int("UPLINE_TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    # The admin theme overrides django.contrib.admin's templates, so it comes first.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "panel.apps.PanelConfig",
    "accounts",
    "catalog",
    "orders",
    "support",
    "referrals",
    "pages",
    "simulator",
    "console",
]

MIDDLEWARE = [
    # /healthz, /readyz and /metrics, before the host and SSL-redirect checks (panel.health).
    "panel.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /api/v2 answers from here: no sessions, CSRF, locale or auth work (see the module).
    "orders.api.v2.middleware.ApiV2Middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "panel.security.ContentSecurityPolicyMiddleware",
    "panel.security.RejectNulCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    "accounts.locale.UserLanguageMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
]

ROOT_URLCONF = "panel.urls"
WSGI_APPLICATION = "panel.wsgi.application"
ASGI_APPLICATION = "panel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "panel.context_processors.panel",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Why: web, worker and beat share one SQLite file in development. WAL lets readers run
    # beside the writer, IMMEDIATE transactions take the write lock up front (no deadlock on
    # upgrade), and the busy timeout makes a writer wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env("UPLINE_TEST_DB", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env("UPLINE_TEST_DB")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (rate limits, locks) -------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtrasForm"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Failed logins are limited per (account + IP) and per IP, never per account alone, so a
# stranger cannot lock a victim out by guessing at their email.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/5m/ip,5/5m/key"}
# Makes allauth's per-"key" login limit per (account + IP) and answers a lockout with a 429.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request while it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# No default in production: an unset host would drop every alert (check upline.E005).
EMAIL_HOST = env("EMAIL_HOST", default="localhost" if DEBUG else "")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Upline <noreply@localhost>")
ADMINS = [("Admin", email) for email in env.list("UPLINE_ADMIN_EMAILS", default=[])]

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    if not SECURE_SSL_REDIRECT:
        # TLS ends at a proxy that also redirects plain HTTP (SECURE_PROXY_SSL_HEADER above):
        # the operator said so with DJANGO_SECURE_SSL_REDIRECT=false, W008 would only repeat it.
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts only from our origin (panel.security); an empty value turns the header off.
CONTENT_SECURITY_POLICY = env(
    "UPLINE_CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
)
# The API documentation pages (drf-spectacular's Swagger UI / ReDoc) run inline script.
CONTENT_SECURITY_POLICY_EXEMPT = ["/api/v1/docs/", "/api/v1/redoc/"]
# The admin theme (django-unfold) runs Alpine.js, which evaluates its x-data/x-on expressions
# with `new Function`: the admin needs 'unsafe-eval', still no inline <script> and no other origin.
CONTENT_SECURITY_POLICY_BY_PATH = {
    "/admin/": CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", "script-src 'self' 'unsafe-eval'"
    )
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker" / "queue"
    _processed_dir = VAR_DIR / "broker" / "processed"
    _control_dir = VAR_DIR / "broker" / "control"
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        # Broadcast (remote control) exchanges; kombu's default is ./control in the cwd.
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    # Why: a message not acked within this time is redelivered; longer than any task runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport, reusing its client object across messages (see panel/broker.py).
    CELERY_BROKER_TRANSPORT = "panel.broker:Transport"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Late acks are opted into per task (only where running twice is harmless).
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Why: when the broker is down a web request must not hang while enqueueing; the order row is
# already committed and the sweeper will enqueue it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Seeds CELERY_BEAT_SCHEDULE into the database once; staff edits in the admin survive restarts.
CELERY_BEAT_SCHEDULER = "panel.beat:SeedOnceScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "catalog-sync-due-providers": {
        "task": "catalog.tasks.sync_due_providers",
        "schedule": 300.0,
    },
    "providers-refresh-balances": {
        "task": "catalog.tasks.refresh_provider_balances",
        "schedule": 600.0,
    },
    "catalog-refresh-completion-times": {
        "task": "catalog.tasks.refresh_completion_times",
        "schedule": 3600.0,
    },
    "orders-sweep": {"task": "orders.tasks.sweep_orders", "schedule": 30.0},
    "console-deliver-notifications": {
        "task": "console.tasks.deliver_pending_notifications",
        "schedule": 120.0,
    },
    "console-notify-review-queue": {"task": "console.tasks.notify_review_queue", "schedule": 60.0},
    "orders-sync-statuses": {"task": "orders.tasks.sync_statuses", "schedule": 15.0},
    "orders-sync-refills": {"task": "orders.tasks.sync_refills", "schedule": 60.0},
    "orders-daily-reconciliation": {
        "task": "orders.tasks.reconcile_providers",
        "schedule": crontab(hour=0, minute=15),
    },
    # /readyz: proves beat, the broker and a worker run (panel.tasks).
    "panel-beat-heartbeat": {"task": "panel.tasks.beat_heartbeat", "schedule": 30.0},
    "panel-check-ledger": {"task": "panel.tasks.check_ledger", "schedule": 3600.0},
}

# --- Operations: probes, metrics, errors (panel.health, panel.metrics, panel.logging_config) ---
# /readyz: how old beat's heartbeat and a provider's last status poll (with open orders) may be.
UPLINE_READY_BEAT_MAX_AGE_SECONDS = env.int("UPLINE_READY_BEAT_MAX_AGE_SECONDS", default=120)
UPLINE_READY_STATUS_SYNC_MAX_AGE_SECONDS = env.int(
    "UPLINE_READY_STATUS_SYNC_MAX_AGE_SECONDS", default=300
)
# /metrics answers only with "Authorization: Bearer <token>"; unset = off.
UPLINE_METRICS_TOKEN = env("UPLINE_METRICS_TOKEN", default="")
# Directories of prometheus-client's multiprocess files merged at a scrape: every program's
# PROMETHEUS_MULTIPROC_DIR (web and worker each have their own). Default: this process's.
_own_metrics_dir = env("PROMETHEUS_MULTIPROC_DIR", default="")
UPLINE_METRICS_DIRS = env.list(
    "UPLINE_METRICS_DIRS", default=[_own_metrics_dir] if _own_metrics_dir else []
)
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    from panel.logging_config import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env("SENTRY_RELEASE", default=""),
    )

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Upline REST API",
    "DESCRIPTION": "Reseller REST API of an Upline SMM panel.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging --------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # One JSON object per line with order / provider ids (panel.logging_config).
        "json": {"()": "panel.logging_config.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # httpx logs every request at INFO; provider calls are logged by panel.smmapi instead.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

# --- Admin theme (django-unfold): sidebar, badges, dashboard; see console/theme.py ---------
from console.theme import UNFOLD  # noqa: E402,F401

# Operator notifications (console.services.notify): stored in the inbox, then mailed to
# UPLINE_ADMIN_EMAILS and sent to a Telegram chat when a bot token and chat id are set.
CONSOLE_NOTIFY_THROTTLE_SECONDS = env.int("CONSOLE_NOTIFY_THROTTLE_SECONDS", default=3600)
TELEGRAM_BOT_TOKEN = env("UPLINE_TELEGRAM_BOT_TOKEN", default="")
TELEGRAM_CHAT_ID = env("UPLINE_TELEGRAM_CHAT_ID", default="")
TELEGRAM_API_URL = env("UPLINE_TELEGRAM_API_URL", default="https://api.telegram.org")

# --- Upline ---------------------------------------------------------------------------------
PANEL_NAME = env("PANEL_NAME", default="Upline")
PANEL_CURRENCY = env("PANEL_CURRENCY", default="USD")
# The panel's public address (scheme + host), for links that leave the site (payment returns).
PANEL_BASE_URL = env("PANEL_BASE_URL", default="http://localhost:8000")
# Key ring for provider API keys at rest: comma-separated Fernet keys, newest first.
# `manage.py rotate_provider_keys` re-encrypts every key with the first one.
if DEBUG:
    UPLINE_ENCRYPTION_KEYS = env.list(
        "UPLINE_ENCRYPTION_KEYS", default=["ZGV2LW9ubHktaW5zZWN1cmUta2V5LTAwMDAwMDAwMDA="]
    )
else:
    UPLINE_ENCRYPTION_KEYS = env.list("UPLINE_ENCRYPTION_KEYS")

SMMAPI_CONNECT_TIMEOUT = env.float("SMMAPI_CONNECT_TIMEOUT", default=5.0)
SMMAPI_READ_TIMEOUT = env.float("SMMAPI_READ_TIMEOUT", default=30.0)
# Provider calls to loopback, private and link-local addresses are refused (the host is resolved
# and checked when the connection opens) unless this is on; on by default only with DEBUG, so a
# local simulator works in development.
SMMAPI_ALLOW_PRIVATE_HOSTS = env.bool("SMMAPI_ALLOW_PRIVATE_HOSTS", default=DEBUG)

# Catalogue
CATALOG_DEFAULT_MARKUP_PERCENT = Decimal(env("CATALOG_DEFAULT_MARKUP_PERCENT", default="30"))
CATALOG_NEW_SERVICES_ENABLED = env.bool("CATALOG_NEW_SERVICES_ENABLED", default=False)
# What to do when an upstream rate rises above a fixed selling price: "disable" or "reprice".
CATALOG_BELOW_COST_ACTION = env("CATALOG_BELOW_COST_ACTION", default="disable")
CATALOG_PUBLIC_PRICE_LIST = env.bool("CATALOG_PUBLIC_PRICE_LIST", default=True)

# Orders
ORDERS_DUPLICATE_LINK_GUARD = env.bool("ORDERS_DUPLICATE_LINK_GUARD", default=True)
ORDERS_SENDING_TIMEOUT_SECONDS = env.int("ORDERS_SENDING_TIMEOUT_SECONDS", default=120)
# A provider paused more often than this within an hour stays paused until staff clear it.
ORDERS_PROVIDER_PAUSE_LIMIT = env.int("ORDERS_PROVIDER_PAUSE_LIMIT", default=3)
# How long a process may place orders from its copy of a service row (price, bounds, enabled)
# after an edit; 0 reads it on every order.
ORDERS_SERVICE_CACHE_SECONDS = env.float("ORDERS_SERVICE_CACHE_SECONDS", default=2.0)
# Forwarding claims this many due orders of a provider at once and has at most this many of
# their `add` calls in flight per worker process (orders.services.dispatch). Keep the concurrency
# within the client's kept-alive connections (20): beyond, connections are opened per call.
ORDERS_FORWARD_BATCH_SIZE = env.int("ORDERS_FORWARD_BATCH_SIZE", default=100)
ORDERS_FORWARD_CONCURRENCY = env.int("ORDERS_FORWARD_CONCURRENCY", default=16)
# How long a drained forwarder waits for more orders before it stops (orders arriving one by one
# then go out in batches, with no message each).
ORDERS_FORWARD_LINGER_SECONDS = env.float("ORDERS_FORWARD_LINGER_SECONDS", default=0.5)

# Payments (accounts.payments): a gateway is enabled when its keys are set; each has its own
# limits and fee (percent the customer pays on top). Deposit bonuses are rules in the admin,
# the same for every method; manual methods (bank transfer…) are defined in the admin too.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_MIN_DEPOSIT = Decimal(env("STRIPE_MIN_DEPOSIT", default="5.00"))
STRIPE_MAX_DEPOSIT = Decimal(env("STRIPE_MAX_DEPOSIT", default="10000.00"))
STRIPE_FEE_PERCENT = Decimal(env("STRIPE_FEE_PERCENT", default="0"))
NOWPAYMENTS_API_KEY = env("NOWPAYMENTS_API_KEY", default="")
NOWPAYMENTS_IPN_SECRET = env("NOWPAYMENTS_IPN_SECRET", default="")
# https://api-sandbox.nowpayments.io/v1 for the sandbox.
NOWPAYMENTS_API_URL = env("NOWPAYMENTS_API_URL", default="https://api.nowpayments.io/v1")
NOWPAYMENTS_MIN_DEPOSIT = Decimal(env("NOWPAYMENTS_MIN_DEPOSIT", default="10.00"))
NOWPAYMENTS_MAX_DEPOSIT = Decimal(env("NOWPAYMENTS_MAX_DEPOSIT", default="10000.00"))
NOWPAYMENTS_FEE_PERCENT = Decimal(env("NOWPAYMENTS_FEE_PERCENT", default="0"))
PAYPAL_CLIENT_ID = env("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_WEBHOOK_ID = env("PAYPAL_WEBHOOK_ID", default="")
# https://api-m.sandbox.paypal.com for the sandbox.
PAYPAL_API_URL = env("PAYPAL_API_URL", default="https://api-m.paypal.com")
PAYPAL_MIN_DEPOSIT = Decimal(env("PAYPAL_MIN_DEPOSIT", default="5.00"))
PAYPAL_MAX_DEPOSIT = Decimal(env("PAYPAL_MAX_DEPOSIT", default="10000.00"))
PAYPAL_FEE_PERCENT = Decimal(env("PAYPAL_FEE_PERCENT", default="0"))
# Receipts customers attach to manual payments: private files, served only to their owner
# and staff through a view (never under a public URL).
MEDIA_ROOT = Path(env("UPLINE_MEDIA_DIR", default=str(VAR_DIR / "media")))
PAYMENT_RECEIPT_MAX_BYTES = env.int("PAYMENT_RECEIPT_MAX_BYTES", default=5 * 1024 * 1024)

# Reseller API rate limits (requests per minute).
API_RATE_LIMIT_PER_KEY = env.int("API_RATE_LIMIT_PER_KEY", default=600)
API_RATE_LIMIT_PER_IP = env.int("API_RATE_LIMIT_PER_IP", default=1200)
# Failed API authentications per IP per minute before the IP is slowed down.
API_RATE_LIMIT_FAILED_AUTH_PER_IP = env.int("API_RATE_LIMIT_FAILED_AUTH_PER_IP", default=20)
# Customer pages, per signed-in user per minute (panel.throttle): placing orders (a mass order
# counts once), the live quote / search / picker fired while typing, starting payments and
# rotating API keys.
WEB_RATE_LIMITS = {
    "order": env.int("WEB_RATE_LIMIT_ORDER", default=30),
    "live": env.int("WEB_RATE_LIMIT_LIVE", default=240),
    "payment": env.int("WEB_RATE_LIMIT_PAYMENT", default=10),
    "api_key": env.int("WEB_RATE_LIMIT_API_KEY", default=10),
    "ticket": env.int("WEB_RATE_LIMIT_TICKET", default=5),
}

# --- Support tickets (support app) -------------------------------------------------------------
# Open tickets one customer may have at once (opening is also rate limited: WEB_RATE_LIMIT_TICKET).
SUPPORT_MAX_OPEN_TICKETS = env.int("SUPPORT_MAX_OPEN_TICKETS", default=10)
# At most one email per ticket and side in this many seconds (a burst of replies is one mail).
SUPPORT_NOTIFY_INTERVAL_SECONDS = env.int("SUPPORT_NOTIFY_INTERVAL_SECONDS", default=600)
# Who hears of new customer messages on unassigned tickets; default: UPLINE_ADMIN_EMAILS.
SUPPORT_NOTIFY_EMAILS = env.list("SUPPORT_NOTIFY_EMAILS", default=[email for _, email in ADMINS])
