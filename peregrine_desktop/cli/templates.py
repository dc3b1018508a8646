"""The text ``new-integration`` writes: a module, its tests and a conftest, as string templates.

Kept as Python strings (not data files) so they ship with the package without packaging rules.
Placeholders are ``$name``; the generated code uses braces freely.
"""
from __future__ import annotations

from string import Template

MODULE = Template('''\
"""$label: $description

The service's contract as this module speaks it (edit the paths to match its documentation):

    GET  {base_url}$probe_path$probe_query  → 200 when the settings work (connection test)
$contract
"""
from __future__ import annotations

$imports


#: Status → (category, what the user should do) for the connection test; other statuses follow
#: the shared table in peregrine_sdk.http (429 → rate_limited, 5xx → cannot_connect, ...).
PROBE_HINTS = {
    401: (ErrorKind.INVALID_AUTH,
          $hint_401),
    403: (ErrorKind.INVALID_AUTH,
          $hint_403),
    404: (ErrorKind.NOT_FOUND, "Nothing answers at that server address; check it for typos."),
}


class $cls(IntegrationBase$mixins):
    name = "$name"
    label = $label_literal
    tier = "$tier"
    description = $description_literal
    #: (connect, read) seconds for each request.
    timeout: float | tuple[float, float] = (5.0, 15.0)

    def fields(self) -> list[dict]:
        return [
$fields
        ]

    def connect(self, config: dict) -> bool:
        """Keep the settings in memory; True when every required one is filled in (no network)."""
        self.config = clean_config(config)
        return self.required_present(self.config)

    def probe(self) -> None:
        """The connection test: one real request; a failure leaves as IntegrationError.  An
        answer that is not the service's (a captive portal, another server) is not "Connected"."""
        with self._client(NO_RETRY) as client:
            account = client.json("GET", self._url("$probe_path"),$probe_params hints=PROBE_HINTS)
        if not (isinstance(account, dict) and account.get("id")):
            raise IntegrationError(ErrorKind.NOT_FOUND, "Something answered at that server "
                                   "address, but not $label; check the address.",
                                   detail=f"GET $probe_path answered {str(account)[:80]!r}")
$capability_methods
    # -- helpers ---------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return str(self.config["base_url"]).rstrip("/") + path

    def _client(self, policy: RetryPolicy | None = None) -> HttpClient:
        """All HTTP goes through HttpClient: timeouts, Retry-After, the shared status table."""
$client_body
$params_method''')

CLIENT_WITH_TOKEN = Template('''\
        token = str(self.config.get("$token_key") or "")
        return HttpClient(timeout=self.timeout, policy=policy,
                          headers={"Authorization": f"Bearer {token}"},
                          secrets=[$secret_values])''')

CLIENT_WITHOUT_TOKEN = Template('''\
        return HttpClient(timeout=self.timeout, policy=policy, secrets=[$secret_values])''')

PARAMS_METHOD = Template('''
    def _params(self) -> dict[str, str]:
        """Non-secret settings the service needs to find the account, as query parameters."""
        return {key: str(self.config[key]) for key in $param_keys
                if self.config.get(key)}
''')

#: Per capability: the mix-in class, extra imports, the contract lines and the methods.
CAPABILITY_CODE: dict[str, dict[str, str]] = {
    "notifications": {
        "mixin": "Notifications",
        "contract": "    POST {base_url}/v1/notifications  {title, message, url}  → 200/201/204",
        "methods": '''
    def notify(self, message: str, *, title: str = "Peregrine", url: str | None = None) -> None:
        """Post one notification; raises IntegrationError when the service refuses it."""
        with self._client() as client:
            client.request("POST", self._url("/v1/notifications"),
                           json={"title": title, "message": message, "url": url})
''',
    },
    "job_sync": {
        "mixin": "JobSync",
        "contract": "    PUT  {base_url}/v1/jobs/<id>  {title, company, status, url}  → 200/201/204\n"
                    "         (an upsert: syncing a job again updates it)",
        "methods": '''
    def sync(self, jobs: list[dict]) -> int:
        """Upsert each job by its id; return how many were accepted (a refused one is logged and
        the rest still go)."""
        synced = 0
        with self._client() as client:
            for job in jobs:
                if job.get("id") in (None, ""):
                    log.warning("%s: a job without an id was skipped", self.name)
                    continue
                try:
                    client.request("PUT", self._url(f"/v1/jobs/{quote(str(job['id']), safe='')}"),
                                   json={key: job.get(key, "") for key in JOB_KEYS})
                except IntegrationError as exc:
                    log.warning("%s: job %s not synced: %s (%s)", self.name, job["id"],
                                exc.kind.value, exc.detail)
                else:
                    synced += 1
        return synced
''',
    },
    "document_upload": {
        "mixin": "DocumentUpload",
        "contract": "    PUT  {base_url}/v1/files/<folder>/<file name>  (the bytes)  → 200/201/204\n"
                    "         optionally answering {\"url\": where it lives}",
        "methods": '''
    def upload_document(self, doc: Document) -> str:
        """Store the file under its folder (replacing an older copy); return where it lives."""
        path = "/".join(quote(part, safe="") for part in (*doc.folder, doc.local_path.name))
        url = self._url(f"/v1/files/{path}")
        with self._client() as client:
            response = client.request(
                "PUT", url, data=doc.local_path.read_bytes(),
                headers={"Content-Type": "application/octet-stream",
                         "X-Content-SHA256": doc.sha256})
        try:
            return str(response.json()["url"])
        except (ValueError, KeyError, TypeError):
            return url
''',
    },
    "calendar_events": {
        "mixin": "CalendarEvents",
        "contract": "    PUT  {base_url}/v1/events/<uid>  {title, start, end, timezone, ...}\n"
                    "         → 200/201/204 (idempotent by uid)\n"
                    "    DELETE {base_url}/v1/events/<uid>  → 200/204, or 404 when already gone",
        "methods": '''
    def upsert_event(self, event: InterviewEvent) -> str:
        """Create or move the interview's event (same uid, same event); return its address."""
        url = self._url(f"/v1/events/{quote(event.uid, safe='')}")
        body = {"title": event.title, "start": event.start.isoformat(),
                "end": event.end.isoformat(), "timezone": event.timezone,
                "description": event.description, "url": event.url,
                "reminder_minutes": event.reminder_minutes}
        with self._client() as client:
            response = client.request("PUT", url, json=body)
        try:
            return str(response.json()["url"])
        except (ValueError, KeyError, TypeError):
            return url

    def delete_event(self, uid: str) -> None:
        """Remove the event; one that is already gone is fine."""
        with self._client() as client:
            client.request("DELETE", self._url(f"/v1/events/{quote(uid, safe='')}"),
                           ok=(200, 202, 204, 404))
''',
    },
}

CONFTEST = '''\
"""The test kit's fixtures (loopback_server, plugin_contract), installed with Peregrine's SDK."""
pytest_plugins = ["peregrine_sdk.testkit.pytest_plugin"]
'''

TESTS = Template('''\
"""$label against a loopback server speaking its contract: success, each failure, recovery."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from peregrine_sdk.errors import ErrorKind
from peregrine_sdk.testkit import LoopbackServer, Reply, refused_url
$import_plugin

EXAMPLE = $example_path
TOKEN = "good-token-123"


@pytest.fixture
def service():
    """$label's documented behaviour, on 127.0.0.1; every request is recorded."""
    with LoopbackServer() as server:
        @server.route("GET", "$probe_path")
        def probe(request, _match):
            $auth_check
            return Reply(200, {"id": "account-1"})
$capability_routes
        yield server


def settings(url: str, /, **changes) -> dict:
    """A complete, valid configuration for the service at ``url``, with ``changes``."""
$settings


def connected(url: str, /, **changes) -> $cls:
    integration = $cls()
    assert integration.connect(settings(url, **changes)) is True
    return integration


def test_the_config_example_has_exactly_the_field_keys():
    example = yaml.safe_load(EXAMPLE.read_text()) or {}
    assert list(example) == [field["key"] for field in $cls().fields()]


def test_the_plugin_keeps_the_contract(plugin_contract):
    """Fields, config example, and the connection test against every fault the kit injects."""
    plugin_contract($cls, example=EXAMPLE)


@pytest.mark.parametrize("key", [f["key"] for f in $cls().fields()
                                 if f["required"] and f["type"] != "checkbox"])
def test_connect_refuses_a_missing_required_setting(key):
    assert $cls().connect(settings("http://127.0.0.1:9", **{key: "  "})) is False


def test_good_settings_pass_the_connection_test(service):
    integration = connected(service.url)
    assert integration.test() is True
    assert integration.check().message == "Connected"
    request = service.matching("GET", "$probe_path")[0]
$probe_asserts
$auth_tests

def test_a_wrong_address_says_not_found(service):
    result = connected(service.url + "/no-such-prefix").check()
    assert result.kind is ErrorKind.NOT_FOUND
    assert "server address" in result.message


def test_rate_limited_then_recovers(service):
    service.inject(Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"}))
    integration = connected(service.url)
    assert integration.check().kind is ErrorKind.RATE_LIMITED
    assert integration.test() is True


def test_a_server_error_says_cannot_connect(service):
    service.inject(Reply(503, "maintenance"))
    assert connected(service.url).check().kind is ErrorKind.CANNOT_CONNECT


def test_nothing_listening_says_cannot_connect():
    integration = connected(refused_url())
    assert integration.test() is False
    assert integration.check().kind is ErrorKind.CANNOT_CONNECT


def test_a_slow_server_says_timeout(service):
    service.inject(Reply(200, {"id": "account-1"}, delay=0.5))
    integration = connected(service.url)
    integration.timeout = 0.1
    assert integration.check().kind is ErrorKind.TIMEOUT


def test_saved_settings_come_back(tmp_path):
    assert $cls.is_configured(tmp_path) is False
    $cls.save_config(settings("https://service.example"), tmp_path)
    assert $cls.is_configured(tmp_path) is True
    assert $cls.load_config(tmp_path) == settings("https://service.example")
$capability_tests''')

AUTH_CHECK_TOKEN = ('if request.header("Authorization") != f"Bearer {TOKEN}":\n'
                    '                return Reply(401, {"error": "invalid token"})')
AUTH_CHECK_NONE = "pass  # the service needs no credentials for this call"

AUTH_TESTS = Template('''

def test_a_wrong_token_says_invalid_auth_and_never_shows_it(service):
    result = connected(service.url, $token_key="wrong-token-456").check()
    assert result.kind is ErrorKind.INVALID_AUTH
    assert "wrong-token-456" not in result.message


def test_after_a_rejected_token_the_corrected_one_works(service):
    assert connected(service.url, $token_key="wrong-token-456").test() is False
    assert connected(service.url).test() is True
''')

CAPABILITY_ROUTES: dict[str, str] = {
    "notifications": '''
        @server.route("POST", "/v1/notifications")
        def notification(request, _match):
            return Reply(204)
''',
    "job_sync": '''
        @server.route("PUT", "/v1/jobs/(?P<id>[^/]+)")
        def job(request, match):
            return Reply(200, {"id": match["id"]})
''',
    "document_upload": '''
        @server.route("PUT", "/v1/files/(?P<path>.+)")
        def upload(request, match):
            return Reply(201, {"url": f"https://files.example/{match['path']}"})
''',
    "calendar_events": '''
        events = {}

        @server.route("PUT", "/v1/events/(?P<uid>[^/]+)")
        def put_event(request, match):
            events[match["uid"]] = request.json
            return Reply(200, {"url": f"https://calendar.example/{match['uid']}"})

        @server.route("DELETE", "/v1/events/(?P<uid>[^/]+)")
        def delete_event(request, match):
            if events.pop(match["uid"], None) is None:
                return Reply(404, {"error": "no such event"})
            return Reply(204)
''',
}

CAPABILITY_TESTS: dict[str, Template] = {
    "notifications": Template('''

def test_notify_posts_the_message(service):
    connected(service.url).notify("Interview booked", title="Peregrine", url="https://job.example")
    (request,) = service.matching("POST", "/v1/notifications")
    assert request.json == {"title": "Peregrine", "message": "Interview booked",
                            "url": "https://job.example"}


def test_a_refused_notification_raises_with_a_category(service):
    from peregrine_sdk.errors import IntegrationError

    service.inject(Reply(404, {"error": "gone"}), path="/v1/notifications")
    with pytest.raises(IntegrationError) as info:
        connected(service.url).notify("hello")
    assert info.value.kind is ErrorKind.NOT_FOUND
'''),
    "job_sync": Template('''

def test_sync_upserts_each_job_and_counts_them(service):
    jobs = [{"id": "j1", "title": "SRE", "company": "Acme", "status": "applied",
             "url": "https://jobs.example/1"},
            {"id": "j2", "title": "Dev", "company": "Initech"}]
    assert connected(service.url).sync(jobs) == 2
    first, second = service.matching("PUT", "/v1/jobs/")
    assert first.path == "/v1/jobs/j1" and first.json["company"] == "Acme"
    assert second.path == "/v1/jobs/j2" and second.json["status"] == ""


def test_a_refused_job_is_not_counted_and_the_rest_still_sync(service):
    service.inject(Reply(400, {"error": "bad job"}), path="/v1/jobs/j1")
    assert connected(service.url).sync([{"id": "j1"}, {"id": "j2"}]) == 1
'''),
    "document_upload": Template('''

def test_upload_stores_the_bytes_under_the_folder(service, tmp_path):
    import hashlib

    from peregrine_sdk.capabilities import Document

    resume = tmp_path / "resume.pdf"
    resume.write_bytes(b"%PDF-1.7 resume")
    doc = Document(resume, ("Acme Corp", "SRE"), hashlib.sha256(resume.read_bytes()).hexdigest())
    location = connected(service.url).upload_document(doc)
    (request,) = service.matching("PUT", "/v1/files/")
    assert request.path == "/v1/files/Acme%20Corp/SRE/resume.pdf"
    assert request.body == b"%PDF-1.7 resume"
    assert location == "https://files.example/Acme%20Corp/SRE/resume.pdf"
'''),
    "calendar_events": Template('''

def test_an_event_is_created_moved_and_deleted(service):
    from datetime import datetime, timedelta, timezone

    from peregrine_sdk.capabilities import InterviewEvent

    start = datetime(2030, 5, 6, 14, 0, tzinfo=timezone.utc)
    event = InterviewEvent("job-7", "Interview: Acme", start, start + timedelta(hours=1), "UTC")
    integration = connected(service.url)
    assert integration.upsert_event(event) == "https://calendar.example/job-7"
    moved = InterviewEvent("job-7", "Interview: Acme", start + timedelta(days=1),
                           start + timedelta(days=1, hours=1), "UTC")
    integration.upsert_event(moved)
    puts = service.matching("PUT", "/v1/events/job-7")
    assert [r.json["start"] for r in puts] == [start.isoformat(),
                                               (start + timedelta(days=1)).isoformat()]
    integration.delete_event("job-7")
    integration.delete_event("job-7")   # already gone: fine
    assert len(service.matching("DELETE", "/v1/events/job-7")) == 2
'''),
}
