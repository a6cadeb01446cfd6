"""Settings for Bürgerservice, read from environment variables.

Defaults are safe for a local run: SQLite in ``var/``, Celery tasks run eagerly
in-process, mail goes to the console. Production sets ``SECRET_KEY`` (required
when DEBUG is off), ``DATABASE_URL``, ``REDIS_URL`` and ``ALLOWED_HOSTS``.
A malformed value stops start-up with ImproperlyConfigured.
"""

import datetime
from pathlib import Path

import dj_database_url
import holidays
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from buergerservice.env import env_bool, env_choice, env_int, env_list, env_rate, env_str
from buergerservice.serving import database_pool_size, web_threads

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production refuses to start without it).")
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it comes before it.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # In INSTALLED_APPS so the API docs use ninja's bundled Swagger UI, not its CDN template.
    "ninja",
    "offices",
    "booking",
    "notifications",
    "desk",
    "tickets",
    "waitlist",
    "demo",
    # Not "statistics": a top-level package of that name would shadow the standard library's module.
    "stats",
    "access",
    # Counts failed sign-ins and locks the account out (staff sign-in and the admin's).
    "axes",
]

MIDDLEWARE = [
    # First: every error under /api/ is JSON, also those of the middleware below it.
    "buergerservice.api_errors.ApiErrorsAsJsonMiddleware",
    # Before anything reads the session or the database: a few writes at once per process, the reads never wait.
    "buergerservice.write_gate.WriteGateMiddleware",
    # With DEBUG on (make run): the site's own 404 page instead of Django's technical one.
    "buergerservice.middleware.FriendlyNotFoundMiddleware",
    # HEAD answered as GET, without the body: every view then serves it, none mistakes it for a POST.
    "buergerservice.middleware.HeadAsGetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "buergerservice.middleware.ContentSecurityPolicyMiddleware",
    "buergerservice.privacy_headers.PrivacyHeadersMiddleware",  # no-store on personal pages, Permissions-Policy
    # Before the session is read and any view runs: input no query may carry (NUL), non-JSON API bodies.
    "buergerservice.input_guard.InputGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Staff pages in German or English only; an unprefixed citizen page in the language chosen earlier.
    "buergerservice.languages.LanguageChoiceMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as its documentation asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "buergerservice.urls"
LOGIN_URL = "desk:staff-login"
LOGOUT_REDIRECT_URL = "desk:staff-login"
LOGIN_REDIRECT_URL = "desk:home"  # the day of the office (or the choice of offices)
WSGI_APPLICATION = "buergerservice.wsgi.application"
ASGI_APPLICATION = "buergerservice.asgi.application"

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
                "buergerservice.context_processors.language_links",
            ],
        },
    },
]

# Database: DATABASE_URL, e.g. postgres://user:password@host:5432/name.
_default_sqlite = VAR_DIR / "db.sqlite3"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env_str("DATABASE_URL", f"sqlite:///{_default_sqlite}"),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
            conn_health_checks=True,
        )
    }
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this project supports: {error}") from None

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Writers queue behind each other instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# PostgreSQL: each web process shares a small pool of connections among its threads
# (Django's psycopg pool) instead of keeping one per thread, so the connections of
# all processes stay countable: workers x DATABASE_POOL_MAX_SIZE (README, "Database
# connections"). Default 8, at most the threads: one write at a time per process
# (buergerservice.write_gate) and the reads the cache does not answer.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    _pool_max = database_pool_size()
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django hands the connection back to the pool after each request
    # With a pool, Django turns this into the pool's check at checkout: a connection
    # PostgreSQL dropped (restart, idle timeout) is replaced, not handed to a request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,  # what an idle process keeps; more are opened on demand and closed after 10 idle minutes
        "max_size": _pool_max,
        # A request waits this long for a free connection before it fails.
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Requests that change something run this many at once per process; at most WEB_WRITE_LINE
# others wait their turn (default all threads but 4, which stay for reads and the running
# write), up to WEB_WRITE_WAIT seconds; a write beyond the line or the wait gets 503
# (buergerservice/write_gate.py).
WEB_WRITES = env_int("WEB_WRITES", 1, minimum=1)
WEB_WRITE_LINE = env_int("WEB_WRITE_LINE", max(1, web_threads() - 4), minimum=1)
WEB_WRITE_WAIT = env_int("WEB_WRITE_WAIT", 10, minimum=1)

# Redis: broker for Celery and shared cache. Unset: tasks run eagerly in-process.
REDIS_URL = env_str("REDIS_URL", "") or ""
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "computed without the cache" while Redis is down (buergerservice/cache.py);
            # the short timeouts bound what a Redis that accepts but never answers costs a request.
            "BACKEND": "buergerservice.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5, "retry_seconds": 10},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

# Booking rules that hold for the whole city (per-office rules are on the office).
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 10, minimum=1)  # a chosen time is kept this long
BOOKING_HOLD_EXTENSIONS = env_int("BOOKING_HOLD_EXTENSIONS", 10, minimum=0)  # WCAG 2.2.1: at least ten
# Holds are no way to hoard (booking.services.appointments.Holder): at most this many live holds per client
# address (one per browser session), a hold kept at most this long in all, and a time given back cannot be
# held again by the same session (or, through the API, address) for this long.
BOOKING_HOLDS_PER_ADDRESS = env_int("BOOKING_HOLDS_PER_ADDRESS", 4, minimum=1)
BOOKING_HOLD_TOTAL_MINUTES = env_int("BOOKING_HOLD_TOTAL_MINUTES", 60, minimum=1)
BOOKING_HOLD_COOLDOWN_MINUTES = env_int("BOOKING_HOLD_COOLDOWN_MINUTES", 5, minimum=0)
# Against trading: a time a citizen cancels comes back to the open calendar this long after (ZMS: 30).
BOOKING_CANCEL_PAUSE_MINUTES = env_int("BOOKING_CANCEL_PAUSE_MINUTES", 30, minimum=0)
# A time freed otherwise (a hold that ran out, a booking never confirmed) is held this long for the waitlist's sweep
# (every minute) to hand on before it returns to the open calendar. 0: at once.
BOOKING_FREED_FIRST_MINUTES = env_int("BOOKING_FREED_FIRST_MINUTES", 3, minimum=0)
BOOKING_MAX_ACTIVE_PER_EMAIL = env_int("BOOKING_MAX_ACTIVE_PER_EMAIL", 2, minimum=1)  # per person (access/identity.py)
BOOKING_LIMIT_BY_PHONE = env_bool("BOOKING_LIMIT_BY_PHONE", False)  # the same limit per phone number too
# The waitlist (waitlist/): an offered time is kept this long (less when it is soon, never less than the minimum),
# passes on to the next in line when declined or lapsed, and a registration is paused after this many lapses.
WAITLIST_OFFER_MINUTES = env_int("WAITLIST_OFFER_MINUTES", 120, minimum=5)
WAITLIST_OFFER_MIN_MINUTES = env_int("WAITLIST_OFFER_MIN_MINUTES", 15, minimum=1)
WAITLIST_PASS_ON_MINUTES = env_int("WAITLIST_PASS_ON_MINUTES", 3, minimum=1)
WAITLIST_LAPSES_TO_PAUSE = env_int("WAITLIST_LAPSES_TO_PAUSE", 3, minimum=1)
WAITLIST_MAX_PER_EMAIL = env_int("WAITLIST_MAX_PER_EMAIL", 2, minimum=1)

# Proof of work (ALTCHA, access/proof.py) before a citizen's hold, and an API booking without a hold: about
# COUNTER PBKDF2 derivations of COST iterations each (about a second in a phone's browser), doubling with every
# challenge beyond FREE an address fetched in ten minutes, at most 2**MAX_LEVEL times. Without JavaScript: a
# question, at most PROOF_QUESTIONS_PER_HOUR per address. API keys need none.
PROOF_OF_WORK = env_bool("PROOF_OF_WORK", True)
PROOF_OF_WORK_COST = env_int("PROOF_OF_WORK_COST", 1000, minimum=1)
PROOF_OF_WORK_COUNTER = env_int("PROOF_OF_WORK_COUNTER", 1000, minimum=2)
PROOF_OF_WORK_FREE = env_int("PROOF_OF_WORK_FREE", 10, minimum=1)  # bench/bots.py: 3 made losers of races wait
PROOF_OF_WORK_MAX_LEVEL = env_int("PROOF_OF_WORK_MAX_LEVEL", 6, minimum=0, maximum=16)
PROOF_OF_WORK_MINUTES = env_int("PROOF_OF_WORK_MINUTES", 10, minimum=1)
if PROOF_OF_WORK_COUNTER << PROOF_OF_WORK_MAX_LEVEL > 2**32:  # ALTCHA's counter is an unsigned 32-bit number
    raise ImproperlyConfigured("PROOF_OF_WORK_COUNTER * 2**PROOF_OF_WORK_MAX_LEVEL must not exceed 2**32.")
PROOF_QUESTIONS_PER_HOUR = env_int("PROOF_QUESTIONS_PER_HOUR", 5, minimum=1)

# Request budgets per client address (an API key gets its own, budget_scale times these), counted in
# Redis by every web instance; over budget: 429 with Retry-After (access/limits.py). Generous enough for
# a household or a mobile carrier's shared address, tight enough that a script cannot sweep a day.
RATE_LIMITS = {
    "read": env_rate("RATE_LIMIT_READ", "300/minute"),  # free times, pages of the booking flow
    "hold": env_rate("RATE_LIMIT_HOLD", "20/10 minutes"),  # placing, extending, releasing a hold
    "book": env_rate("RATE_LIMIT_BOOK", "10/10 minutes"),
    "move": env_rate("RATE_LIMIT_MOVE", "10/hour"),
    "cancel": env_rate("RATE_LIMIT_CANCEL", "10/hour"),
}

# The clerks' desk (desk/).
DESK_NO_SHOW_GRACE_MINUTES = env_int("DESK_NO_SHOW_GRACE_MINUTES", 15, minimum=0)  # no-show only after start + this
DESK_REFRESH_SECONDS = env_int("DESK_REFRESH_SECONDS", 20, minimum=5)  # the day view reloads its list this often

# The walk-in queue (tickets/; the estimate is explained in tickets/estimate.py).
QUEUE_HISTORY_DAYS = env_int("QUEUE_HISTORY_DAYS", 28, minimum=1)  # service times and the busy chart look back this far
QUEUE_ACTIVE_COUNTER_MINUTES = env_int("QUEUE_ACTIVE_COUNTER_MINUTES", 20, minimum=1)  # a counter without a call, start
# or finish for this long no longer counts as serving
QUEUE_PHONE_REFRESH_SECONDS = env_int("QUEUE_PHONE_REFRESH_SECONDS", 15, minimum=5)  # the ticket's phone page
QUEUE_DISPLAY_REFRESH_SECONDS = env_int("QUEUE_DISPLAY_REFRESH_SECONDS", 1, minimum=1, maximum=2)  # the call display
# Answers reused until their data changes (buergerservice/versions.py) are kept at most this long: the bound on
# how long an answer can outlive a change whose version bump was lost (a process killed between commit and bump).
VERSIONED_CACHE_SECONDS = env_int("VERSIONED_CACHE_SECONDS", 60, minimum=1)
QUEUE_STATUS_CACHE_SECONDS = env_int("QUEUE_STATUS_CACHE_SECONDS", 10, minimum=0)  # the public status (0: not cached)

# Staff sign-in lockout (django-axes): after this many failed attempts for one
# user name from one address, that user name is locked there for
# STAFF_LOCKOUT_MINUTES; from another address it still signs in, so nobody locks
# a clerk out by typing their name. One address failing for any user names
# STAFF_LOGIN_ADDRESS_FAILURE_LIMIT times in that period is refused altogether
# (password spraying; buergerservice/signin.py). An administrator can lift a
# lock in the admin ("Access attempts") or with `manage.py axes_reset_username <name>`.
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("STAFF_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "buergerservice.signin.AddressLimitedAxesHandler"
STAFF_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("STAFF_LOGIN_ADDRESS_FAILURE_LIMIT", 30, minimum=1)
# Behind this many reverse proxies the client's address is taken from X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "buergerservice.signin.client_address"
AXES_USERNAME_CALLABLE = "buergerservice.signin.client_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "desk.views.staff.locked_out"
AXES_VERBOSE = False

# Messages to citizens (notifications/): e-mail and SMS through the outbox.
# Absolute links in messages start with SITE_URL (scheme and host, no trailing slash).
SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("SITE_URL must start with http:// or https://, for example https://termine.example.de.")
REMINDER_LEAD_HOURS = env_int("REMINDER_LEAD_HOURS", 24, minimum=1)  # e-mail reminder, to those who consented
SMS_REMINDER_LEAD_MINUTES = env_int("SMS_REMINDER_LEAD_MINUTES", 120, minimum=0)  # 0: no SMS reminders
MESSAGE_MAX_ATTEMPTS = env_int("MESSAGE_MAX_ATTEMPTS", 10, minimum=1)
MESSAGE_RETRY_SECONDS = env_int("MESSAGE_RETRY_SECONDS", 60, minimum=1)  # first retry; doubles up to an hour
# A send claims its message for this long and renews the claim while it runs; a
# worker that dies mid-send stops renewing, and within a lease plus a sweep its
# message is handed back (a change) or given up (a reminder, never sent twice).
MESSAGES_LEASE_SECONDS = env_int("MESSAGES_LEASE_SECONDS", 30, minimum=3)
MESSAGES_SWEEP_SECONDS = env_int("MESSAGES_SWEEP_SECONDS", 10, minimum=1)
# SMS: console (default), file, locmem (tests) or gateway (the HTTP SMS gateway below).
SMS_BACKEND = env_choice(
    "SMS_BACKEND",
    "console",
    {
        "console": "notifications.sms.ConsoleBackend",
        "file": "notifications.sms.FileBackend",
        "locmem": "notifications.sms.LocmemBackend",
        "gateway": "notifications.sms.GatewayBackend",
    },
)
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "") or ""
SMS_GATEWAY_KEY = env_str("SMS_GATEWAY_KEY", "") or ""
SMS_SENDER = env_str("SMS_SENDER", "Buergeramt") or ""
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10, minimum=1)
if SMS_BACKEND.endswith("GatewayBackend") and not (SMS_GATEWAY_URL and SMS_GATEWAY_KEY):
    raise ImproperlyConfigured("SMS_BACKEND=gateway needs SMS_GATEWAY_URL and SMS_GATEWAY_KEY.")

CELERY_TIMEZONE = "Europe/Berlin"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that queues a task after its commit must not hang when Redis is
# down: give up quickly; the outbox sweep sends what was not queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# socket_timeout also covers a Redis that accepts connections but never answers;
# it stays above the 1 s a worker's BRPOP waits for the next task.
# visibility_timeout: a task a dead worker took is handed out again after this;
# it must exceed the longest task (5 minutes) so a running one is not given to
# a second worker. Messages do not wait for it: their leases are seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
    "socket_keepalive": True,
    "visibility_timeout": 60 * 60,
}
# Several installations (or test runs) can share one Redis, each on a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery") or "celery"
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Tasks marked acks_late (the idempotent ones) go back to the queue when a worker dies mid-task.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "buergerservice.celery:HeartbeatScheduler"
# Beat wakes at least this often, so its heartbeat (see healthcheck.py) stays fresh.
CELERY_BEAT_MAX_LOOP_INTERVAL = 30
CELERY_BEAT_SCHEDULE = {
    # The day's lead time to the next free appointment and capacity by channel, kept for the city's figures
    # (stats.snapshots); late in the day, so the run still falls on the day it records.
    "statistics-snapshot-nightly": {
        "task": "stats.tasks.snapshot_nightly",
        "schedule": crontab(hour=23, minute=45),
    },
    # Erases personal data whose retention period is over (desk.retention), at night.
    "erase-personal-data": {
        "task": "desk.tasks.erase_personal_data",
        "schedule": crontab(hour=3, minute=15),
    },
    # Keeps this and next year's public holidays in the database, so closing
    # days are known well beyond any booking horizon.
    "sync-public-holidays": {
        "task": "offices.tasks.sync_public_holidays",
        "schedule": 24 * 60 * 60,
    },
    # Frees the units of holds nobody confirmed (reads free them too, so this
    # only matters for quiet offices).
    "expire-holds": {
        "task": "booking.tasks.expire_holds",
        "schedule": 60,
    },
    # Cancels bookings whose e-mail address was not confirmed in time and frees their times.
    "lapse-unconfirmed": {
        "task": "booking.tasks.lapse_unconfirmed",
        "schedule": 60,
    },
    # Keeps the urgent contingent of every office from the open calendar, before each day's release.
    "keep-urgent-contingent": {
        "task": "booking.tasks.keep_urgent_contingent",
        "schedule": 5 * 60,
    },
    # Offers freed and free times to the waitlist in its order; lapses offers whose window ran out.
    "waitlist-offers": {
        "task": "waitlist.tasks.make_offers",
        "schedule": 60,
    },
    # Sends what is due and unsent: messages whose task never reached Redis,
    # retries after a temporary failure, and the reminders when their time comes.
    "send-due-messages": {
        "task": "notifications.tasks.send_due_messages",
        "schedule": MESSAGES_SWEEP_SECONDS,
    },
    # Reminders are recorded with each booking and sent by the sweep; this
    # hourly pass adds any an appointment should have but lacks.
    "plan-reminders": {
        "task": "notifications.tasks.plan_reminders",  # its old name; the task is booking.tasks.plan_reminders
        "schedule": crontab(minute=5),
    },
    # Forgets the proofs of work whose challenges expired (they cannot be replayed anyway).
    "forget-used-proofs": {
        "task": "access.tasks.forget_used_proofs",
        "schedule": crontab(minute=35),
    },
    # Rebuilds every office's grid for its horizon before the morning release.
    "refresh-all-capacity": {
        "task": "desk.tasks.capacity_rebuild_all",
        "schedule": crontab(hour=2, minute=30),
    },
}

# Mail: EMAIL_BACKEND is console (default), file, smtp or locmem.
EMAIL_BACKEND = env_choice(
    "EMAIL_BACKEND",
    "console",
    {
        "console": "django.core.mail.backends.console.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
    },
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Bürgerservice <noreply@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Internationalisation: German by default, English complete; for citizens also Turkish, Arabic (right to
# left), Ukrainian and Russian. The staff side (desk, admin) stays German and English (STAFF_LANGUAGES).
LANGUAGE_CODE = "de"
LANGUAGES = [
    ("de", _("German")),
    ("en", _("English")),
    ("tr", _("Turkish")),
    ("ar", _("Arabic")),
    ("uk", _("Ukrainian")),
    ("ru", _("Russian")),
]
STAFF_LANGUAGES = ("de", "en")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["buergerservice.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True
MODELTRANSLATION_DEFAULT_LANGUAGE = "de"
MODELTRANSLATION_LANGUAGES = tuple(code for code, _name in LANGUAGES)
MODELTRANSLATION_FALLBACK_LANGUAGES = ("de",)

# Personal data (names, addresses, phone numbers, notes, message recipients, ticket and waitlist links) is
# erased this many days after the appointment, ticket or registration; an office may keep it longer where a
# law requires (Office.retention_days). The figures never need the person and stay complete.
RETENTION_DAYS = env_int("RETENTION_DAYS", 30, minimum=0)
# Who answers questions about personal data, shown on /privacy/ (several lines allowed); empty: a default text.
PRIVACY_CONTACT = env_str("PRIVACY_CONTACT", "")

# The accessibility statement (BITV 2.0): when it was prepared, and the conciliation body to name when not
# the federal one under § 16 BGG (a Land's own body for a city; free text, one line per line).
ACCESSIBILITY_STATEMENT_DATE = env_str("ACCESSIBILITY_STATEMENT_DATE", "2026-12-07")
ACCESSIBILITY_CONCILIATION_BODY = env_str("ACCESSIBILITY_CONCILIATION_BODY", "")

# Public holidays come from the `holidays` package for this federal state
# (ISO 3166-2 code without "DE-": SN Saxony, BW Baden-Württemberg, ...).
HOLIDAYS_SUBDIVISION = env_str("HOLIDAYS_SUBDIVISION", "SN")
if HOLIDAYS_SUBDIVISION not in holidays.Germany.subdivisions:
    raise ImproperlyConfigured(
        f"HOLIDAYS_SUBDIVISION must be one of {', '.join(holidays.Germany.subdivisions)}, not {HOLIDAYS_SUBDIVISION!r}."
    )

# Static files: our own in static/, Bootstrap and htmx from node_modules
# (installed by `npm ci`), all served by Django itself through WhiteNoise.
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    # The proof-of-work widget's build without bundled workers (access/proof.py): its worker is served by us too.
    ("vendor/altcha/external", BASE_DIR / "node_modules" / "altcha" / "dist" / "external"),
    ("vendor/altcha/workers", BASE_DIR / "node_modules" / "altcha" / "dist" / "workers"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Security. Production (DEBUG off) is strict by default; behind a TLS-terminating
# proxy set TRUST_X_FORWARDED_PROTO=1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language chosen in the switch is remembered for a year
LANGUAGE_COOKIE_SAMESITE = "Lax"  # like the session and CSRF cookies (Django leaves this one unset)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Manage tokens, hold tokens, ticket tokens and kiosk keys are in addresses and
# open what they name: no log line may keep them (buergerservice/log_redaction.py).
# The filter sits on each logger that writes request paths, so every handler (also
# Django's own and a test's) sees the record without them; the formatter covers the
# rest of the console output, tracebacks included. Gunicorn: gunicorn.conf.py.
_REDACTED_LOGGERS = ("django.request", "django.security.csrf", "django.security.DisallowedHost")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "buergerservice.log_redaction.RedactSecretsFilter"},
        # A foreign Host header or an oversized body is the client's doing: WARNING, not ERROR.
        "suspicious_as_warning": {"()": "buergerservice.log_levels.SuspiciousRequestsAsWarningsFilter"},
    },
    "formatters": {
        "plain": {
            "()": "buergerservice.log_redaction.RedactingFormatter",
            "format": "{asctime} {levelname} {name}: {message}",
            "style": "{",
        },
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["suspicious_as_warning"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        **{name: {"filters": ["redact_secrets"]} for name in _REDACTED_LOGGERS},
        # runserver's access lines (Django's own configuration of it, plus the filter)
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
