"""Settings for the test suite: the real settings with fast, isolated parts.

DATABASE_URL is still honoured, so CI runs the same suite on PostgreSQL.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")

from buergerservice.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "notifications.sms.LocmemBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
QUEUE_STATUS_CACHE_SECONDS = 0  # tests change the queue and read its status at once
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
# The live server of browser tests speaks plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Static files come straight from the finders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Race tests must race: the write gate would take their POSTs one at a time
# (tests/project/test_write_gate.py sets it where it is tested).
WEB_WRITES = 64
WEB_WRITE_LINE = 64
# Race tests release up to 12 threads at once, each needing its own connection for
# a real race; the web-sized pool (one process's threads) would queue them. An
# explicit size is kept (tests/project/test_db_pool.py runs a server with one).
if "pool" in DATABASES["default"].get("OPTIONS", {}) and not os.environ.get("DATABASE_POOL_MAX_SIZE"):  # noqa: F405
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 16  # noqa: F405
# The suite's clients all come from one address: budgets no test reaches by accident
# (tests/access/test_rate_limits.py sets the real ones where they are tested).
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "100000/minute")  # noqa: F405
# The suite's holds come without a proof of work; tests/access/test_proof.py and the browser test switch it on.
PROOF_OF_WORK = False
# Most tests cancel and book the freed time again at once; tests/booking/test_cancel_pause.py tests the pause.
BOOKING_CANCEL_PAUSE_MINUTES = 0
BOOKING_FREED_FIRST_MINUTES = 0  # the waitlist's tests turn it on
