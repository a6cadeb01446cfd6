"""SMS: numbers, length, and every backend, the gateway against a real local HTTP server."""

import io
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import translation

from notifications import sms
from notifications.sms import (
    ConsoleBackend,
    FileBackend,
    GatewayBackend,
    LocmemBackend,
    PermanentSmsError,
    SentSms,
    TemporarySmsError,
    UncertainSmsError,
    get_backend,
    mobile_number,
    send_sms,
    sms_length,
    sms_length_reason,
)

MOBILE = "+4915123456789"
KEY = "test-key-4f1c9a77e2"


@pytest.fixture(autouse=True)
def empty_outbox() -> Iterator[None]:
    sms.outbox.clear()
    yield
    sms.outbox.clear()


# --- mobile_number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0151 2345 6789",
        "01512345 6789",
        "+49 151 23456789",
        "0049151 23456789",
        "+49 (0) 151 23456789",
        "0151/23456789",
        "0151-234 567 89",
        " +4915123456789 ",
    ],
)
def test_german_mobile_numbers_typed_any_way_become_the_same_e164(typed: str) -> None:
    assert mobile_number(typed) == MOBILE


def test_a_mobile_number_in_brackets_is_read_as_german() -> None:
    assert mobile_number("(0170) 1234567") == "+491701234567"


@pytest.mark.parametrize(
    "typed",
    [
        "0341 123456",  # Leipzig landline
        "+49 30 12345678",  # Berlin landline
        "0800 1234567",  # toll-free service number
        "01512345678",  # a mobile prefix with too few digits
    ],
)
def test_numbers_that_cannot_receive_sms_are_refused(typed: str) -> None:
    assert mobile_number(typed) is None


def test_mobile_numbers_of_other_countries_are_accepted() -> None:
    assert mobile_number("+43 664 1234567") == "+436641234567"
    assert mobile_number("0043 664 1234567") == "+436641234567"


def test_a_fictional_british_number_is_not_a_valid_mobile() -> None:
    # 07700 900xxx is Ofcom's range for drama: not a number anyone can have.
    assert mobile_number("+44 7700 900123") is None


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "   ",
        "keine Ahnung",
        "0151 CALL ME",
        "+",
        "++49151",
        "0" * 10_000,
        "+49" + "1" * 500,
        "\x00\x01\x02",
        "０１５１ ２３４５ ６７８９" * 50,
        "☎️ 📱",
        "tel:+4915123456789;" + "x" * 1000,
    ],
)
def test_garbage_gives_none_and_never_raises(hostile: str) -> None:
    assert mobile_number(hostile) is None


# --- sms_length ----------------------------------------------------------------------------------


def test_the_gsm_alphabet_constant_holds_the_127_characters_of_the_standard() -> None:
    assert len(sms.GSM7_BASIC) == len(set(sms.GSM7_BASIC)) == 127
    # The Greek capitals are the Greek letters, not look-alike Latin ones.
    assert set("\u0394\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e") <= set(sms.GSM7_BASIC)
    assert not set(sms.GSM7_EXTENSION) & set(sms.GSM7_BASIC)


def test_exactly_160_plain_characters_fit_one_sms() -> None:
    length = sms_length("a" * 160)
    assert (length.encoding, length.units, length.parts, length.fits_one_sms) == ("GSM-7", 160, 1, True)


def test_161_plain_characters_take_two_parts() -> None:
    length = sms_length("a" * 161)
    assert (length.encoding, length.units, length.parts, length.fits_one_sms) == ("GSM-7", 161, 2, False)


def test_each_concatenated_gsm_part_holds_153() -> None:
    assert sms_length("a" * 306).parts == 2
    assert sms_length("a" * 307).parts == 3


def test_umlauts_sharp_s_and_e_acute_stay_gsm7() -> None:
    text = "Grüße aus dem Bürgeramt: ÄÖÜ äöü ß é, Ihr Termin am Mittwoch."
    assert sms_length(text).encoding == "GSM-7"
    assert sms_length(text).units == len(text)


def test_the_euro_sign_and_brackets_count_two_septets() -> None:
    assert sms_length("€").units == 2
    assert sms_length("Gebühr: 10 € [bar]").units == len("Gebühr: 10 € [bar]") + 3
    assert sms_length("€" * 80).parts == 1
    assert sms_length("€" * 81).parts == 2


def test_an_escape_pair_is_never_split_between_parts() -> None:
    # 152 septets, then € (2) would straddle the 153 boundary: it moves to part two.
    assert sms_length("a" * 152 + "€" + "a" * 152).parts == 3


@pytest.mark.parametrize("foreign", ["ł", "😀", "„", "Ş"])
def test_a_character_outside_the_gsm_alphabet_switches_to_ucs2(foreign: str) -> None:
    length = sms_length("Termin bestätigt " + foreign)
    assert length.encoding == "UCS-2"


def test_ucs2_fits_70_units_in_one_sms_and_67_per_part() -> None:
    assert sms_length("ł" * 70).parts == 1
    assert sms_length("ł" * 71).parts == 2
    assert sms_length("ł" * 134).parts == 2
    assert sms_length("ł" * 135).parts == 3


def test_an_emoji_counts_two_utf16_units() -> None:
    assert sms_length("😀").units == 2
    assert sms_length("😀" * 35).parts == 1
    assert sms_length("😀" * 36).parts == 2


def test_the_reason_is_empty_when_the_text_fits_one_sms() -> None:
    assert sms_length_reason(sms_length("a" * 160)) == ""
    assert sms_length_reason(sms_length("ł" * 70)) == ""


def test_the_reason_names_the_count_limit_and_parts_when_it_does_not_fit() -> None:
    with translation.override("en"):
        reason = sms_length_reason(sms_length("a" * 307))
    assert reason == "307 characters, more than the 160 of one SMS: sent in 3 parts."


def test_the_reason_for_ucs2_explains_the_smaller_limit() -> None:
    with translation.override("en"):
        reason = sms_length_reason(sms_length("ł" * 71))
    assert reason == (
        "Contains characters outside the GSM alphabet, so one SMS holds only 70: sent in 2 parts (71 characters)."
    )


# --- Console, file and locmem backends -----------------------------------------------------------


def test_the_console_backend_prints_recipient_text_and_length() -> None:
    stream = io.StringIO()
    sms_id = ConsoleBackend(stream=stream).send(to=MOBILE, text="Ihr Termin: Mi 10:30, Bürgeramt Mitte")
    printed = stream.getvalue()
    assert MOBILE in printed
    assert "Ihr Termin: Mi 10:30, Bürgeramt Mitte" in printed
    assert "37 GSM-7 units, 1 part(s)" in printed
    assert sms_id in printed


def test_the_console_backend_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    ConsoleBackend().send(to=MOBILE, text="Hallo")
    assert "Hallo" in capsys.readouterr().out


def test_the_file_backend_writes_one_json_file_per_sms(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_FILE_PATH = str(tmp_path / "not" / "yet" / "there")
    first = FileBackend().send(to=MOBILE, text="Grüße, Ihr Bürgeramt €")
    second = FileBackend().send(to="+491701234567", text="Zweite")

    files = sorted((tmp_path / "not" / "yet" / "there").iterdir())
    assert len(files) == 2
    assert all(path.suffix == ".json" and not path.name.startswith(".") for path in files)
    contents = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    by_id = {content["id"]: content for content in contents}
    assert set(by_id) == {first, second}
    assert by_id[first]["to"] == MOBILE
    assert by_id[first]["text"] == "Grüße, Ihr Bürgeramt €"
    assert by_id[first]["sent_at"].endswith("+00:00")
    assert "Grüße".encode() in next(path for path in files if first in path.name).read_bytes()


def test_the_file_backend_gives_every_sms_its_own_file_under_concurrency(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_FILE_PATH = str(tmp_path)
    backend = FileBackend()
    ids: list[str] = []

    def send_ten() -> None:
        for number in range(10):
            ids.append(backend.send(to=MOBILE, text=f"SMS {number}"))

    threads = [threading.Thread(target=send_ten) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    files = list(tmp_path.iterdir())
    assert len(files) == len(set(ids)) == 80
    assert {json.loads(path.read_text(encoding="utf-8"))["id"] for path in files} == set(ids)


def test_the_file_backend_reports_an_unwritable_directory_as_temporary(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.SMS_FILE_PATH = str(blocker / "sms")
    with pytest.raises(TemporarySmsError, match="could not write the SMS file"):
        FileBackend().send(to=MOBILE, text="Hallo")


def test_the_locmem_backend_records_what_was_sent() -> None:
    sms_id = LocmemBackend().send(to=MOBILE, text="Hallo")
    assert sms.outbox == [SentSms(to=MOBILE, text="Hallo", id=sms_id)]


@pytest.mark.parametrize("backend", [ConsoleBackend(stream=io.StringIO()), LocmemBackend()])
@pytest.mark.parametrize("to", ["0151 23456789", "4915123456789", "", "+49 151 23456789"])
def test_every_backend_refuses_a_number_that_is_not_e164(backend: sms.SmsBackend, to: str) -> None:
    with pytest.raises(PermanentSmsError, match="E.164"):
        backend.send(to=to, text="Hallo")
    assert sms.outbox == []


def test_send_sms_uses_the_configured_backend(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sms_id = send_sms(to=MOBILE, text="über locmem")
    assert sms.outbox == [SentSms(to=MOBILE, text="über locmem", id=sms_id)]

    settings.SMS_BACKEND = "notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    assert isinstance(get_backend(), FileBackend)
    file_id = send_sms(to=MOBILE, text="als Datei")
    assert [json.loads(path.read_text(encoding="utf-8"))["id"] for path in tmp_path.iterdir()] == [file_id]
    assert len(sms.outbox) == 1


# --- The gateway against a real HTTP server ------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeGateway:
    """What the local server answers next, and what it was asked."""

    url: str
    status: int = 200
    answer: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def answer_json(self, payload: object, *, status: int = 200) -> None:
        self.status, self.answer = status, json.dumps(payload).encode()


def seven_answer(*, code: str = "100", sms_id: str | None = "77229318510", success: bool = True) -> dict:
    """The shape of seven.io's JSON answer (docs.seven.io, endpoint sms)."""
    return {
        "success": code,
        "total_price": 0.075,
        "balance": 593.994,
        "sms_type": "direct",
        "messages": [
            {
                "id": sms_id,
                "recipient": MOBILE.lstrip("+"),
                "parts": 1,
                "price": 0.075,
                "success": success,
                "error": None if success else "202",
                "error_text": None,
            }
        ],
    }


@pytest.fixture
def gateway(settings, monkeypatch) -> Iterator[FakeGateway]:  # type: ignore[no-untyped-def]
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake: FakeGateway = self.server.fake  # type: ignore[attr-defined]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.received.append(Received(self.path, dict(self.headers.items()), body))
            if fake.delay:
                fake.release.wait(fake.delay)
            self.send_response(fake.status)
            for name, value in fake.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.answer)))
            self.end_headers()
            self.wfile.write(fake.answer)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeGateway(url=f"http://127.0.0.1:{server.server_address[1]}/api/sms")
    fake.answer_json(seven_answer())
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.SMS_BACKEND = "notifications.sms.GatewayBackend"
    settings.SMS_GATEWAY_URL = fake.url
    settings.SMS_GATEWAY_KEY = KEY
    settings.SMS_SENDER = "Buergeramt"
    settings.SMS_GATEWAY_TIMEOUT = 1
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def send_expecting(error: type[Exception]) -> str:
    with pytest.raises(error) as raised:
        send_sms(to=MOBILE, text="Ihr Termin")
    message = str(raised.value)
    assert KEY not in message
    return message


def test_the_gateway_request_carries_key_number_text_and_sender(gateway: FakeGateway) -> None:
    text = "Grüße vom Bürgeramt: Termin am Dienstag, 10:30 – Größe egal, €"
    assert send_sms(to=MOBILE, text=text) == "77229318510"

    [request] = gateway.received
    assert request.path == "/api/sms"
    assert request.headers["X-Api-Key"] == KEY
    assert request.headers["Content-Type"].startswith("application/json")
    assert text.encode("utf-8") in request.body  # raw UTF-8, not \u escapes
    assert json.loads(request.body.decode("utf-8")) == {"to": MOBILE, "text": text, "from": "Buergeramt"}


def test_without_a_sender_the_gateway_default_is_used(gateway: FakeGateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_SENDER = ""
    send_sms(to=MOBILE, text="Hallo")
    assert "from" not in json.loads(gateway.received[0].body)


def test_a_sent_sms_without_a_provider_id_gets_a_generated_one(gateway: FakeGateway) -> None:
    gateway.answer_json(seven_answer(sms_id=None))
    first, second = send_sms(to=MOBILE, text="a"), send_sms(to=MOBILE, text="b")
    assert first and second and first != second


def test_the_legacy_plain_text_return_code_is_understood(gateway: FakeGateway) -> None:
    gateway.answer = b"100"
    assert send_sms(to=MOBILE, text="Hallo")
    gateway.answer = b"202"
    assert send_expecting(PermanentSmsError) == "gateway return code 202: the recipient number is invalid"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_server_errors_and_throttling_are_temporary(gateway: FakeGateway, status: int) -> None:
    gateway.status, gateway.answer = status, b"{}"
    assert send_expecting(TemporarySmsError) == f"gateway answered HTTP {status}"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_permanent(gateway: FakeGateway, status: int) -> None:
    gateway.status, gateway.answer = status, b"{}"
    assert send_expecting(PermanentSmsError) == f"gateway answered HTTP {status}"


def test_a_rejected_number_is_permanent(gateway: FakeGateway) -> None:
    gateway.answer_json({"success": "202", "messages": []})
    assert send_expecting(PermanentSmsError) == "gateway return code 202: the recipient number is invalid"


def test_a_recipient_refused_within_a_partial_success_is_permanent(gateway: FakeGateway) -> None:
    gateway.answer_json(seven_answer(code="101", success=False))
    assert "202" in send_expecting(PermanentSmsError)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("11", TemporarySmsError),
        ("403", TemporarySmsError),
        ("500", TemporarySmsError),
        ("600", TemporarySmsError),
        ("700", TemporarySmsError),
        ("201", PermanentSmsError),
        ("301", PermanentSmsError),
        ("305", PermanentSmsError),
        ("401", PermanentSmsError),
        ("402", PermanentSmsError),
        ("900", PermanentSmsError),
        ("902", PermanentSmsError),
        ("903", PermanentSmsError),
        ("999", PermanentSmsError),
    ],
)
def test_seven_return_codes_are_classified(gateway: FakeGateway, code: str, error: type[Exception]) -> None:
    gateway.answer_json({"success": code})
    assert f"return code {code}" in send_expecting(error)


def test_an_unreadable_answer_is_temporary(gateway: FakeGateway) -> None:
    gateway.answer = b"<html>Wartungsarbeiten</html>"
    assert "without a readable return code" in send_expecting(UncertainSmsError)


def test_a_redirect_is_not_followed_and_is_permanent(gateway: FakeGateway) -> None:
    gateway.status, gateway.answer = 302, b""
    gateway.headers = {"Location": gateway.url + "/elsewhere"}
    assert "HTTP 302" in send_expecting(PermanentSmsError)
    assert [request.path for request in gateway.received] == ["/api/sms"]


def test_a_gateway_slower_than_the_timeout_leaves_it_open_whether_it_sent(gateway: FakeGateway) -> None:
    gateway.delay = 5
    assert send_expecting(UncertainSmsError) == "gateway did not answer within 1 s"


def test_a_refused_connection_is_temporary(gateway: FakeGateway, settings) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{closed_port}/api/sms"
    with pytest.raises(TemporarySmsError) as caught:
        send_sms(to=MOBILE, text="Hallo")
    assert str(caught.value) == "gateway unreachable: Connection refused"
    assert not isinstance(caught.value, UncertainSmsError)  # nothing reached the gateway: safe to try again


def test_the_key_never_appears_even_when_the_gateway_echoes_it(gateway: FakeGateway) -> None:
    gateway.answer_json({"success": KEY})
    message = send_expecting(PermanentSmsError)
    assert "[key]" in message


def test_a_gateway_url_that_is_not_http_is_refused_without_a_request(gateway: FakeGateway, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SMS_GATEWAY_URL = "file:///etc/passwd"
    assert "http" in send_expecting(PermanentSmsError)
    assert gateway.received == []


def test_the_gateway_backend_can_be_configured_by_arguments(gateway: FakeGateway) -> None:
    backend = GatewayBackend(url=gateway.url, key="other-key", sender="Stadt", timeout=2)
    assert backend.send(to=MOBILE, text="Hallo") == "77229318510"
    assert gateway.received[0].headers["X-Api-Key"] == "other-key"
    assert json.loads(gateway.received[0].body)["from"] == "Stadt"
