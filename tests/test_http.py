"""The shared HTTP layer against a real loopback server: statuses, retries, faults, masking."""
from __future__ import annotations

import logging

import pytest

from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.http import NO_RETRY, HttpClient, RetryPolicy, kind_for_status
from peregrine_sdk.redaction import mask_text
from tests.fakes.loopback import LoopbackServer, Reply, refused_url


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        srv.route("GET", "/thing")(lambda req, m: Reply(200, {"ok": True}))
        yield srv


def fast_policy(**kwargs) -> tuple[RetryPolicy, list[float]]:
    waits: list[float] = []
    return RetryPolicy(sleep=waits.append, **kwargs), waits


@pytest.mark.parametrize("status,kind", [(401, "invalid_auth"), (403, "invalid_auth"),
                                         (404, "not_found"), (429, "rate_limited"),
                                         (500, "cannot_connect"), (503, "cannot_connect"),
                                         (418, "unknown")])
def test_status_table(status, kind):
    assert kind_for_status(status).value == kind


def test_429_waits_for_retry_after_then_succeeds(server):
    server.inject(Reply(429, {"code": "rate_limited"}, headers={"Retry-After": "2"}), times=2)
    policy, waits = fast_policy()
    response = HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert response.json() == {"ok": True}
    assert waits == [2.0, 2.0]
    assert len(server.requests) == 3


def test_float_retry_after_in_a_json_body_is_honoured(server):
    server.inject(Reply(429, {"message": "slow down", "retry_after": 0.64, "global": False}))
    policy, waits = fast_policy()
    HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert waits == [0.64]


def test_retry_after_is_capped(server):
    server.inject(Reply(429, "", headers={"Retry-After": "86400"}))
    policy, waits = fast_policy(max_wait=60)
    HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert waits == [60]


def test_documented_fixed_wait_without_a_header(server):
    server.inject(Reply(429, {"errors": [{"error": "RATE_LIMIT_REACHED"}]}))
    policy, waits = fast_policy(rate_limit_wait=30)
    HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert waits == [30]


def test_a_429_storm_gives_up_after_bounded_attempts(server):
    server.inject(Reply(429, "", headers={"Retry-After": "1"}), times=10)
    policy, waits = fast_policy(attempts=4)
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert info.value.kind is ErrorKind.RATE_LIMITED
    assert len(server.requests) == 4 and len(waits) == 3


def test_5xx_is_retried_with_backoff(server):
    server.inject(Reply(502, "bad gateway"), times=2)
    policy, waits = fast_policy(base_delay=0.5)
    assert HttpClient(policy=policy).request("GET", server.url + "/thing").status_code == 200
    assert len(waits) == 2 and all(0 < w <= 60 for w in waits)


def test_auth_errors_are_not_retried(server):
    server.inject(Reply(401, "401: Unauthorized"), times=3)
    policy, waits = fast_policy()
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=policy).request("GET", server.url + "/thing")
    assert info.value.kind is ErrorKind.INVALID_AUTH
    assert waits == [] and len(server.requests) == 1


def test_service_specific_hint_wins(server):
    server.inject(Reply(404, {"code": "object_not_found"}))
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY).request(
            "GET", server.url + "/thing",
            hints={404: (ErrorKind.NOT_FOUND, "Share the database with your integration.")})
    assert info.value.hint == "Share the database with your integration."


def test_refused_connection_is_cannot_connect():
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY).request("GET", refused_url() + "/x")
    assert info.value.kind is ErrorKind.CANNOT_CONNECT


def test_slow_answer_is_a_timeout(server):
    server.inject(Reply(200, {}, delay=1.0))
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY, timeout=0.2).request("GET", server.url + "/thing")
    assert info.value.kind is ErrorKind.TIMEOUT


def test_reset_mid_request_is_cannot_connect(server):
    server.inject(Reply(reset=True))
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY).request("GET", server.url + "/thing")
    assert info.value.kind is ErrorKind.CANNOT_CONNECT


def test_garbage_body_is_an_error_not_a_crash(server):
    server.inject(Reply(200, b"\x00\xffnot json", headers={"Content-Type": "application/json"}))
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY).json("GET", server.url + "/thing")
    assert info.value.kind is ErrorKind.UNKNOWN


def test_not_a_url_is_explained():
    with pytest.raises(IntegrationError) as info:
        HttpClient(policy=NO_RETRY).request("GET", "hooks.slack.com/services/x")
    assert "not a valid http(s) URL" in info.value.hint


def test_secrets_never_reach_error_text_or_logs(server, caplog):
    secret = "xoxb-very-secret-token"
    server.inject(Reply(500, f"echo {secret}"), times=2)
    policy, _ = fast_policy(attempts=2)
    client = HttpClient(policy=policy, secrets=[secret],
                        headers={"Authorization": f"Bearer {secret}"})
    with caplog.at_level(logging.DEBUG), pytest.raises(IntegrationError) as info:
        client.request("GET", server.url + f"/thing?token={secret}")
    everything = caplog.text + str(info.value) + info.value.detail + info.value.hint
    assert secret not in everything
    assert "•••" in info.value.detail


@pytest.mark.parametrize("text,hidden", [
    ("https://hooks.slack.com/services/T000/B000/XXXXSECRET", "XXXXSECRET"),
    ("https://discord.com/api/webhooks/123/tok-en_SECRET", "tok-en_SECRET"),
    ("https://discord.com/api/v10/webhooks/123/abcSECRET?wait=true", "abcSECRET"),
    ("https://g.api.mega.co.nz/cs?id=1&sid=SESSIONSECRET", "SESSIONSECRET"),
    ("Authorization: Bearer ya29.SECRETTOKEN", "ya29.SECRETTOKEN"),
    ("https://user:apppassword@cloud.example/remote.php", "apppassword"),
])
def test_masking_patterns(text, hidden):
    assert hidden not in mask_text(text)


def test_tracebacks_in_logs_are_masked_too(caplog):
    from peregrine_sdk.redaction import install_log_masking, register_secret
    register_secret("tb-secret-value-123")
    install_log_masking()
    with caplog.at_level(logging.ERROR):
        try:
            raise ValueError("failed with tb-secret-value-123")
        except ValueError:
            logging.getLogger("plugin").exception("plugin crashed")
    assert "tb-secret-value-123" not in caplog.text
    assert "ValueError: failed with •••" in caplog.text
