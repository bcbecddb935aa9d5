"""Settings, all from the environment (12-factor); see .env.example and the README's table.

No variables at all gives the embedded default: SQLite in var/, Celery tasks run in-process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# A local .env (written by `make run`) fills in what the real environment does not set.
load_dotenv(BASE_DIR / ".env", override=False)
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# pytest (or `manage.py test`) runs without production hardening such as the HTTPS redirect.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "crm.apps.ContactsAdminConfig",  # django.contrib.admin, with crm.admin_site's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "django_countries",
    "guardian",
    "import_export",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm",
    "importer",
    "builders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before sessions, authentication and every view: text PostgreSQL cannot store is a 400.
    "crm.storable_text.StorableTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages without a login follow the language cookie, then Accept-Language (R11.1) ...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... and a signed-in manager's pages follow the manager's language.
    "crm.middleware.ManagerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
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
            ],
        },
    },
]

# --- Database: DATABASE_URL, default an SQLite file ---------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while an in-process import writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
if env_str("TEST_DATABASE_NAME"):  # lets two test runs share one PostgreSQL server
    _db["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis and Celery: REDIS_URL, unset = tasks in-process ---------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is delivered again (imports resume)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "contacts")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = "UTC"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "contacts",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth: django-guardian object permissions on channels ----------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; only managers hold grants
GUARDIAN_MONKEY_PATCH_USER = False
LOGIN_URL = "admin:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Uploads and files ----------------------------------------------------------------------
UPLOAD_MAX_MB = env_int("UPLOAD_MAX_MB", 200, minimum=1)
UPLOAD_MAX_BYTES = UPLOAD_MAX_MB * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads stream to a temporary file
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
FAILURE_LOG_RETENTION_DAYS = env_int("FAILURE_LOG_RETENTION_DAYS", 30, minimum=1)

# --- i18n / static ----------------------------------------------------------------------------
# Korean first (R11.1): the language of a request that names none, and of the command line.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ko")
LANGUAGES = [("ko", "한국어"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r}: use one of ko, en")
LOCALE_PATHS = [BASE_DIR / "locale"]  # compiled by `make install` (config/catalogs.py)
# A manager who chose no language reads the one of their channel's country ("KR=ko,US=en";
# empty: LANGUAGE_CODE, or the browser's, for everyone).
LANGUAGE_BY_COUNTRY: dict[str, str] = {}
for _pair in env_list("LANGUAGE_BY_COUNTRY", "KR=ko"):
    _country, _, _language = _pair.partition("=")
    if _language not in dict(LANGUAGES):
        raise ImproperlyConfigured(f"LANGUAGE_BY_COUNTRY: {_pair!r} is not COUNTRY=ko or =en")
    LANGUAGE_BY_COUNTRY[_country.strip().upper()] = _language
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
FORMAT_MODULE_PATH = ["config.formats"]  # R11.2: the same date-time and number formats everywhere
USE_THOUSAND_SEPARATOR = False  # counts are grouped by crm.display.count, not ids or years
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))

# --- Django REST framework (Open API) ---------------------------------------------------------
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contacts Open API",
    "VERSION": "5.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",  # the docs page works without reaching a CDN
}

# --- Security: hardened unless DEBUG (check --deploy passes with production values) -----------
_HARDEN = not DEBUG and not TESTING
BEHIND_PROXY = env_bool("BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HARDEN)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if _HARDEN else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", _HARDEN)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", _HARDEN)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _HARDEN)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _HARDEN)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Imports ------------------------------------------------------------------------------------
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 5000, minimum=1)
IMPORT_STALE_SECONDS = env_int("IMPORT_STALE_SECONDS", 60, minimum=1)  # no heartbeat: worker dead
IMPORT_MAX_ATTEMPTS = env_int("IMPORT_MAX_ATTEMPTS", 3, minimum=1)
IMPORT_USE_COPY = env_bool("IMPORT_USE_COPY", True)  # PostgreSQL COPY writer
# Dead workers' jobs are reaped by every worker itself (crm.jobs.worker): no beat entry.
CELERY_BEAT_SCHEDULE = {
    "purge-failure-logs": {"task": "importer.purge_failure_logs", "schedule": 3600.0},
    "purge-abandoned-import-drafts": {
        "task": "importer.purge_abandoned_drafts",
        "schedule": 3600.0,
    },
    "compact-mu": {"task": "crm.compact_mu", "schedule": 60.0},
}
IMPORT_PIPELINE = env_bool("IMPORT_PIPELINE", True)  # parse chunk N+1 while chunk N commits
# An upload left in the wizard without starting is deleted (with its file) after this long.
IMPORT_DRAFT_RETENTION_HOURS = env_int("IMPORT_DRAFT_RETENTION_HOURS", 24, minimum=1)
# Deletions of many customers (R3.1): ids per transaction; no heartbeat this long: worker dead.
DELETE_CHUNK_ROWS = env_int("DELETE_CHUNK_ROWS", 5000, minimum=1)
DELETE_STALE_SECONDS = env_int("DELETE_STALE_SECONDS", 60, minimum=1)

# --- Open API rate limits and builders (issue 6) ----------------------------------------------
# Requests per access key per window; counted in Redis (the cache) when REDIS_URL is set.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 1000, minimum=1)
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 60, minimum=1)
# R7.4, all counted like the Open API's (crm/ratelimit.py). Failed Open API authentications
# per client address; boots per client address and per plugin key; webhook deliveries per
# installation URL. BEHIND_PROXY makes the client address the proxy's X-Forwarded-For entry.
API_AUTH_FAILURE_LIMIT = env_int("API_AUTH_FAILURE_LIMIT", 20, minimum=1)
API_AUTH_FAILURE_WINDOW_SECONDS = env_int("API_AUTH_FAILURE_WINDOW_SECONDS", 600, minimum=1)
BOOT_RATE_LIMIT_PER_ADDRESS = env_int("BOOT_RATE_LIMIT_PER_ADDRESS", 120, minimum=1)
BOOT_RATE_LIMIT_PER_KEY = env_int("BOOT_RATE_LIMIT_PER_KEY", 6000, minimum=1)
BOOT_RATE_WINDOW_SECONDS = env_int("BOOT_RATE_WINDOW_SECONDS", 60, minimum=1)
WEBHOOK_RATE_LIMIT = env_int("WEBHOOK_RATE_LIMIT", 600, minimum=1)
WEBHOOK_RATE_WINDOW_SECONDS = env_int("WEBHOOK_RATE_WINDOW_SECONDS", 60, minimum=1)
# Builder API calls of a customer pull: timeout per request, attempts, exponential backoff.
BUILDER_HTTP_TIMEOUT = env_int("BUILDER_HTTP_TIMEOUT", 30, minimum=1)
BUILDER_HTTP_ATTEMPTS = env_int("BUILDER_HTTP_ATTEMPTS", 6, minimum=1)
BUILDER_HTTP_BACKOFF = float(env_int("BUILDER_HTTP_BACKOFF_MS", 500, minimum=1)) / 1000
BUILDER_HTTP_BACKOFF_MAX = float(env_int("BUILDER_HTTP_BACKOFF_MAX_MS", 30_000, minimum=1)) / 1000
BUILDER_PULL_STALE_SECONDS = env_int("BUILDER_PULL_STALE_SECONDS", 120, minimum=1)
BUILDER_WEBHOOK_RECEIPT_DAYS = env_int("BUILDER_WEBHOOK_RECEIPT_DAYS", 30, minimum=1)
BUILDER_SHOPIFY_API_VERSION = env_str("BUILDER_SHOPIFY_API_VERSION", "2025-01")
BUILDER_CAFE24_API_VERSION = env_str("BUILDER_CAFE24_API_VERSION", "2025-03-01")
BUILDER_CAFE24_PAGE_SIZE = env_int("BUILDER_CAFE24_PAGE_SIZE", 1000, minimum=1)
BUILDER_CAFE24_OFFSET_MAX = env_int("BUILDER_CAFE24_OFFSET_MAX", 8000, minimum=0)


def _iso_day(name: str, default: str) -> str:
    from datetime import date

    raw = env_str(name, default)
    try:
        date.fromisoformat(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a date: use YYYY-MM-DD") from None
    return raw


BUILDER_CAFE24_EARLIEST = _iso_day("BUILDER_CAFE24_EARLIEST", "2003-01-01")  # first window's day
CELERY_BEAT_SCHEDULE["purge-builder-webhook-receipts"] = {
    "task": "builders.purge_receipts",
    "schedule": 3600.0,
}
