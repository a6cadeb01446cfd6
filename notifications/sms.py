"""SMS to citizens: number parsing, length measuring and the backends that send.

The outbox calls ``send_sms(to=..., text=...)``; it returns an id and raises
``TemporarySmsError`` (try again later) or ``PermanentSmsError`` (retrying
cannot help). The exception text is a short English diagnostic for the
outbox's "last error" column; it never contains the gateway key.

``settings.SMS_BACKEND`` picks the backend: ``ConsoleBackend`` (development),
``FileBackend`` (one JSON file per SMS), ``LocmemBackend`` (tests) or
``GatewayBackend`` (the HTTP gateway of seven.io, formerly sms77).

The gateway contract, as confirmed from seven.io's documentation and its own
client libraries:

- POST https://gateway.seven.io/api/sms with the key in the ``X-Api-Key``
  header and a JSON body ``{"to", "text", "from"}``
  (https://docs.seven.io/en/rest-api/endpoints/sms,
  https://docs.seven.io/en/rest-api/authentication, and the official clients
  https://github.com/seven-io/python-client ``seven_api/SevenApi.py`` and
  https://github.com/seven-io/php-client ``src/BaseClient.php``, which send
  JSON with that header).
- The answer is HTTP 200 even when the SMS is refused; the outcome is the
  string return code in ``"success"``, and ``"messages"`` lists one entry per
  recipient with its ``"id"``. The codes are those of
  https://github.com/seven-io/php-client ``src/Library/StatusCode.php``
  (the same in https://github.com/seven-io/go-client): 100 sent, 101 sent
  partially, 11 carrier temporarily unavailable, 201 invalid sender,
  202 invalid recipient, 301 recipient missing, 305 text missing, 401 text too
  long, 402 reload lock, 403 daily limit for the number, 500 too little
  credit, 600 carrier delivery failed, 700 unknown error, 900 authentication
  failed, 902 HTTP API disabled for the key, 903 server IP not allowed.
  An answer that is only the code ("100", the API's plain-text form) is
  read too.
"""

import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from pathlib import Path
from typing import Protocol, TextIO
from uuid import uuid4

import phonenumbers
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


class SmsError(Exception):
    """The SMS was not sent; ``str(error)`` is a short English diagnostic without secrets."""


class TemporarySmsError(SmsError):
    """Not sent now, but the same SMS may go through later (network, timeout, gateway busy)."""


class UncertainSmsError(TemporarySmsError):
    """The request may have reached the gateway, but it did not say whether it sent the SMS.

    Worth another attempt for a message that must arrive; not for one that
    must never arrive twice (a reminder).
    """


class PermanentSmsError(SmsError):
    """Not sent, and sending the same SMS again cannot help (bad number, rejected text, refused request)."""


# --- Numbers -------------------------------------------------------------------------------------

# Longer input is no phone number; the cap also bounds the parser's work on hostile input.
_MAX_PHONE_INPUT = 64
_MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def mobile_number(phone: str) -> str | None:
    """The E.164 form ("+4915123456789") of a mobile number as a person types it, else None.

    Numbers without a country code are read as German ("0151 2345 6789",
    "(0170) 1234567"); "+49 ..." and "0049 ..." work too, as do mobile numbers
    of other countries ("+43 664 1234567"). Landlines, service numbers,
    numbers the numbering plan does not know, empty and malformed input give
    None. Never raises.
    """
    if not isinstance(phone, str) or not phone.strip() or len(phone) > _MAX_PHONE_INPUT:
        return None
    try:
        number = phonenumbers.parse(phone, "DE")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _require_e164(to: str) -> None:
    # The outbox stores mobile_number()'s E.164 form; anything else is a bug
    # upstream, and every backend refuses it alike so tests catch it, not production.
    if not isinstance(to, str) or not _E164.fullmatch(to):
        raise PermanentSmsError("recipient is not an E.164 number")


# --- Length --------------------------------------------------------------------------------------

# GSM 03.38 default alphabet (3GPP TS 23.038), in code order 0x00-0x7F without
# 0x1B, the escape to the extension table. Greek capitals are the Greek letters.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The extension table: each of these costs the escape septet plus its own.
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_SINGLE, _GSM7_PART = 160, 153  # septets; a part loses 7 to the concatenation header
_UCS2_SINGLE, _UCS2_PART = 70, 67  # UTF-16 code units

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsLength:
    """How a text travels as SMS: its encoding, its size in that encoding and the SMS it takes."""

    encoding: str  # GSM7 or UCS2
    units: int  # septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2
    parts: int  # 1 if it fits one SMS, else the number of concatenated parts

    @property
    def fits_one_sms(self) -> bool:
        return self.parts == 1


def _parts(unit_sizes: list[int], *, single: int, per_part: int) -> int:
    if sum(unit_sizes) <= single:
        return 1
    # Phones and gateways never split an escape pair or a surrogate pair
    # between parts, so a part may hold one unit less than per_part.
    parts, used = 1, 0
    for size in unit_sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def sms_length(text: str) -> SmsLength:
    """Measure ``text`` the way the network will carry it.

    GSM-7 when every character is in the GSM 03.38 alphabet (German umlauts,
    ß and é are), counting extension characters (€ [ ] { } \\ ~ ^ | form feed)
    twice; otherwise UCS-2 in UTF-16 code units (an emoji counts 2). ``parts``
    is 1 up to 160 septets / 70 units, else the number of 153-septet / 67-unit
    parts, none of which splits a two-unit character.
    """
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SmsLength(GSM7, sum(sizes), _parts(sizes, single=_GSM7_SINGLE, per_part=_GSM7_PART))
    sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SmsLength(UCS2, sum(sizes), _parts(sizes, single=_UCS2_SINGLE, per_part=_UCS2_PART))


def sms_length_reason(length: SmsLength) -> str:
    """Why the text needs more than one SMS, in the active language; "" when it fits one."""
    if length.fits_one_sms:
        return ""
    if length.encoding == UCS2:
        return _(
            "Contains characters outside the GSM alphabet, so one SMS holds only 70: "
            "sent in %(parts)s parts (%(units)s characters)."
        ) % {"parts": length.parts, "units": length.units}
    return _("%(units)s characters, more than the %(limit)s of one SMS: sent in %(parts)s parts.") % {
        "units": length.units,
        "limit": _GSM7_SINGLE,
        "parts": length.parts,
    }


# --- Backends ------------------------------------------------------------------------------------


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str) -> str: ...


def _generated_id(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex}"


class ConsoleBackend:
    """Prints each SMS (recipient, text, length) to a stream, stdout unless told otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, *, to: str, text: str) -> str:
        """Write one block per SMS and return a generated id; raises PermanentSmsError for a non-E.164 number."""
        _require_e164(to)
        sms_id = _generated_id("console")
        length = sms_length(text)
        # stdout is looked up per call, so a redirected or captured stdout is honoured.
        stream = self._stream or sys.stdout
        stream.write(
            f"---------- SMS to {to} ({sms_id}) ----------\n"
            f"{text}\n"
            f"---------- {length.units} {length.encoding} units, {length.parts} part(s) ----------\n"
        )
        stream.flush()
        return sms_id


class FileBackend:
    """Writes each SMS as its own JSON file into ``settings.SMS_FILE_PATH``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._directory = Path(directory if directory is not None else settings.SMS_FILE_PATH)

    def send(self, *, to: str, text: str) -> str:
        """Write ``{"to", "text", "sent_at", "id"}`` (UTF-8) to a new file and return the id.

        The directory is created if missing. Each SMS gets a file name of its
        own (UTC timestamp and random id), created exclusively and renamed into
        place, so concurrent processes never share or overwrite a file and a
        reader never sees a half-written one. Raises TemporarySmsError when the
        file cannot be written.
        """
        _require_e164(to)
        now = datetime.now(tz=UTC)
        sms_id = _generated_id("file")
        content = json.dumps({"to": to, "text": text, "sent_at": now.isoformat(), "id": sms_id}, ensure_ascii=False)
        name = f"{now:%Y%m%dT%H%M%S%fZ}-{sms_id}.json"
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            partial = self._directory / f".{name}.part"
            with partial.open("x", encoding="utf-8") as file:
                file.write(content)
            partial.replace(self._directory / name)
        except OSError as error:
            raise TemporarySmsError(f"could not write the SMS file: {error.strerror or error}") from error
        return sms_id


@dataclass(frozen=True)
class SentSms:
    to: str
    text: str
    id: str


# Like django.core.mail.outbox: what LocmemBackend sent, for tests to inspect and clear.
outbox: list[SentSms] = []


class LocmemBackend:
    """Appends each SMS to the module-level ``outbox`` list (for tests)."""

    def send(self, *, to: str, text: str) -> str:
        """Record the SMS in ``outbox`` and return a generated id; raises PermanentSmsError for a non-E.164 number."""
        _require_e164(to)
        sms_id = _generated_id("locmem")
        outbox.append(SentSms(to=to, text=text, id=sms_id))
        return sms_id


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A gateway that redirects is a misconfigured URL; following it could send
    # the key to another host. Returning None makes urllib raise HTTPError(3xx).
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_SENT_CODES = frozenset({"100", "101"})
_TEMPORARY_CODES = {
    "11": "the carrier is temporarily unavailable",
    "403": "the daily limit for this number is reached",
    # The SMS itself is fine: once the account is topped up, a retry goes through.
    "500": "the gateway account has too little credit",
    "600": "the carrier could not deliver",
    "700": "the gateway reported an unknown error",
}
_PERMANENT_CODES = {
    "201": "the sender or its country code is invalid",
    "202": "the recipient number is invalid",
    "301": "the recipient is missing",
    "305": "the text is missing",
    "401": "the text is too long",
    # An identical SMS to this number went out moments ago, probably our own
    # earlier attempt whose answer was lost: sending again would duplicate it.
    "402": "an identical SMS was sent moments ago (reload lock)",
    "900": "the API key was refused",
    "902": "the HTTP API is disabled for this key",
    "903": "this server's IP address is not allowed",
}
_MAX_ANSWER_BYTES = 64 * 1024


class GatewayBackend:
    """Sends through the seven.io HTTP API (see the module docstring for the contract).

    Configured by SMS_GATEWAY_URL, SMS_GATEWAY_KEY, SMS_SENDER (left out of the
    request when empty) and SMS_GATEWAY_TIMEOUT (seconds); arguments override
    the settings. Uses only the standard library.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        key: str | None = None,
        sender: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self._url = url if url is not None else settings.SMS_GATEWAY_URL
        self._key = key if key is not None else settings.SMS_GATEWAY_KEY
        self._sender = sender if sender is not None else settings.SMS_SENDER
        self._timeout = timeout if timeout is not None else settings.SMS_GATEWAY_TIMEOUT

    def send(self, *, to: str, text: str) -> str:
        """POST one SMS and return the gateway's message id (a generated one if it gives none).

        Raises TemporarySmsError for network errors, a wait longer than
        SMS_GATEWAY_TIMEOUT on connecting or on any read, HTTP 408/429/5xx, an
        unreadable answer and return codes that may pass (11, 403, 500, 600,
        700). Raises PermanentSmsError for a non-E.164 number, a URL that is
        not http(s), redirects (never followed), other HTTP 4xx and the
        remaining return codes. The key never appears in an exception message.
        """
        _require_e164(to)
        if urllib.parse.urlsplit(self._url).scheme not in ("http", "https"):
            raise PermanentSmsError("SMS_GATEWAY_URL must start with http:// or https://")
        status, body = self._post(to=to, text=text)
        return self._sent_id(status=status, body=body, to=to)

    def _post(self, *, to: str, text: str) -> tuple[int, bytes]:
        payload = {"to": to, "text": text}
        if self._sender:
            payload["from"] = self._sender
        # The key goes straight into the request instead of a local variable:
        # error trackers record the local variables of failing frames.
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked to be http(s)
            self._url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "X-Api-Key": self._key,
            },
            method="POST",
        )
        opener = urllib.request.build_opener(_RefuseRedirects)
        try:
            with opener.open(request, timeout=self._timeout) as response:
                return response.status, response.read(_MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            error.close()
            raise self._http_status_error(error.code) from error
        except urllib.error.URLError as error:
            # Refused, unresolvable, TLS failure or a connect timeout ("timed out").
            raise TemporarySmsError(f"gateway unreachable: {self._redacted(error.reason)}") from error
        # urllib wraps failures while connecting and sending in URLError (above);
        # what fails after that, while waiting for or reading the answer, leaves
        # open whether the gateway sent the SMS.
        except TimeoutError as error:
            raise UncertainSmsError(f"gateway did not answer within {self._timeout} s") from error
        except (OSError, HTTPException) as error:
            raise UncertainSmsError(f"connection to the gateway failed: {self._redacted(error)}") from error

    @staticmethod
    def _http_status_error(status: int) -> SmsError:
        if status in (408, 429) or status >= 500:
            return TemporarySmsError(f"gateway answered HTTP {status}")
        if 300 <= status < 400:
            return PermanentSmsError(f"gateway answered HTTP {status} (a redirect: check SMS_GATEWAY_URL)")
        return PermanentSmsError(f"gateway answered HTTP {status}")

    def _sent_id(self, *, status: int, body: bytes, to: str) -> str:
        # Only 2xx answers get here: urllib raises HTTPError for every other status.
        try:
            answer = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise UncertainSmsError(f"gateway answered HTTP {status} without a readable return code") from None
        # JSON answers carry the code in "success"; the legacy text answer is the bare code.
        if isinstance(answer, dict):
            code = str(answer.get("success", ""))
        elif isinstance(answer, int):
            code, answer = str(answer), {}
        else:
            raise UncertainSmsError(f"gateway answered HTTP {status} without a readable return code")
        if code not in _SENT_CODES:
            raise self._return_code_error(code)
        message = self._message_for(answer, to=to)
        if message.get("success") is False:
            # "Sent partially" with one recipient: this recipient's own error decides.
            error_code = message.get("error")
            if error_code is None:
                raise PermanentSmsError(f"gateway return code {code}, but this recipient was not accepted")
            raise self._return_code_error(str(error_code))
        sms_id = message.get("id")
        return str(sms_id) if sms_id not in (None, "") else _generated_id("gateway")

    @staticmethod
    def _message_for(answer: dict[str, object], *, to: str) -> dict[str, object]:
        messages = answer.get("messages")
        if not isinstance(messages, list):
            return {}
        entries = [entry for entry in messages if isinstance(entry, dict)]
        digits = to.lstrip("+")
        for entry in entries:
            if str(entry.get("recipient", "")).lstrip("+") == digits:
                return entry
        return entries[0] if entries else {}

    def _return_code_error(self, code: str) -> SmsError:
        if code in _TEMPORARY_CODES:
            return TemporarySmsError(f"gateway return code {code}: {_TEMPORARY_CODES[code]}")
        if code in _PERMANENT_CODES:
            return PermanentSmsError(f"gateway return code {code}: {_PERMANENT_CODES[code]}")
        return PermanentSmsError(f"gateway return code {self._redacted(code, limit=20)} is unknown")

    def _redacted(self, reason: object, *, limit: int = 200) -> str:
        # The only texts in messages that do not come from this module are OS
        # reasons and unknown codes; should one ever echo the key, it is masked
        # (before shortening, so no prefix of it survives either).
        if isinstance(reason, OSError) and reason.strerror:
            text = reason.strerror
        else:
            text = str(reason) or type(reason).__name__
        if self._key:
            text = text.replace(self._key, "[key]")
        return text[:limit]


def get_backend() -> SmsBackend:
    """A new instance of the backend named by ``settings.SMS_BACKEND``."""
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, to: str, text: str) -> str:
    """Send one SMS to the E.164 number ``to`` through the configured backend and return its id.

    Raises TemporarySmsError or PermanentSmsError as the backend does; nothing
    else for failures of sending.
    """
    return get_backend().send(to=to, text=text)
