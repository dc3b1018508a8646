"""Importing a job from its posting's address: pages served on 127.0.0.1, read as a user would."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from peregrine_desktop.jobs.repository import JobRepository
from peregrine_desktop.jobs.store import JobStore
from peregrine_desktop.jobs.url_import import (FOUND_IN_JSON_LD, FOUND_IN_OPENGRAPH,
                                               FOUND_IN_TITLE, PostingFetchError, fetch_posting,
                                               html_to_text, parse_posting)
from peregrine_desktop.ui.pipeline.url_dialog import UrlImportDialog
from tests.fakes.loopback import LoopbackServer, Reply, refused_url
from tests.ui_helpers import click, mnemonics, press_alt, type_into

GRAPH_POSTING = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "Organization", "@id": "#org", "name": "Acme Robotics &amp; Co"},
        {"@type": "WebPage", "name": "Careers"},
        {"@type": ["JobPosting"], "title": "Senior Backend Engineer",
         "hiringOrganization": {"@id": "#org"},
         "jobLocation": [
             {"@type": "Place", "address": {"@type": "PostalAddress",
                                            "addressLocality": "Berlin",
                                            "addressCountry": {"@type": "Country",
                                                               "name": "Germany"}}},
             {"@type": "Place", "address": {"addressLocality": "Munich",
                                            "addressRegion": "Bavaria",
                                            "addressCountry": "DE"}}],
         "baseSalary": {"@type": "MonetaryAmount", "currency": "EUR",
                        "value": {"@type": "QuantitativeValue", "minValue": 70000,
                                  "maxValue": 85000, "unitText": "YEAR"}},
         "description": "&lt;p&gt;Build &lt;b&gt;robots&lt;/b&gt;.&lt;/p&gt;&lt;ul&gt;"
                        "&lt;li&gt;Python&lt;/li&gt;&lt;li&gt;SQL&lt;/li&gt;&lt;/ul&gt;"},
    ],
}

REMOTE_POSTING = {
    "@context": "http://schema.org", "@type": "JobPosting", "name": "Data Analyst",
    "hiringOrganization": "Globex", "jobLocationType": "TELECOMMUTE",
    "applicantLocationRequirements": {"@type": "Country", "name": "Canada"},
    "baseSalary": {"@type": "MonetaryAmount", "currency": "CAD",
                   "value": {"@type": "QuantitativeValue", "value": 42.5, "unitText": "HOUR"}},
    "description": "<div>Analyse things.<br>Report them.</div>",
}


def page(*, json_ld=None, head: str = "", title: str = "") -> str:
    script = (f'<script type="application/ld+json">{json.dumps(json_ld)}</script>'
              if json_ld is not None else "")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}"
            f"{script}</head><body><h1>Posting</h1></body></html>")


@pytest.fixture
def site():
    with LoopbackServer() as server:
        pages = {
            "/graph": page(json_ld=GRAPH_POSTING, title="Careers"),
            "/remote": page(json_ld=[{"@type": "Organization", "name": "x"}, REMOTE_POSTING]),
            "/og": page(title="ignored", head=(
                '<meta property="og:title" content="Platform Engineer at Initech">'
                '<meta property="og:site_name" content="Initech Careers">'
                '<meta property="og:description" content="Keep the &lt;b&gt;lights&lt;/b&gt; on.">')),
            "/title": page(title="Job Application for QA Lead at Hooli | Greenhouse",
                           head='<meta property="og:site_name" content="Greenhouse">'),
            "/broken-ld": page(title="Support Engineer - Umbrella",
                               head='<script type="application/ld+json">{not json</script>'),
        }
        for path, body in pages.items():
            server.route("GET", path)(lambda request, match, body=body: Reply(
                200, body.encode(), {"Content-Type": "text/html; charset=utf-8"}))
        server.route("GET", "/pdf")(lambda r, m: Reply(200, b"%PDF-1.4",
                                                       {"Content-Type": "application/pdf"}))
        yield server


def test_json_ld_graph_with_references_lists_and_escaped_html(site):
    draft = fetch_posting(site.url + "/graph")
    assert draft.found_in == FOUND_IN_JSON_LD
    v = draft.values
    assert v["title"] == "Senior Backend Engineer"
    assert v["company"] == "Acme Robotics & Co"
    assert v["location"] == "Berlin, Germany; Munich, Bavaria, DE"
    assert v["salary"] == "EUR 70,000–85,000 per year"
    assert v["description"] == "Build robots.\n\n• Python\n• SQL"
    assert v["url"] == site.url + "/graph" and v["source"] == "127.0.0.1"
    assert site.requests[0].header("Accept").startswith("text/html")


def test_remote_posting_with_organisation_as_text():
    draft = parse_posting(page(json_ld=[{"@type": "Organization", "name": "x"}, REMOTE_POSTING]),
                          "https://www.globex.test/jobs/9")
    assert draft.values["title"] == "Data Analyst"
    assert draft.values["company"] == "Globex"
    assert draft.values["remote"] is True
    assert draft.values["location"] == "Remote (Canada)"
    assert draft.values["salary"] == "CAD 42.50 per hour"
    assert draft.values["description"] == "Analyse things.\nReport them."
    assert draft.values["source"] == "globex.test"


def test_opengraph_then_title_are_the_fallbacks(site):
    og = fetch_posting(site.url + "/og")
    assert og.found_in == FOUND_IN_OPENGRAPH
    assert (og.values["title"], og.values["company"]) == ("Platform Engineer", "Initech")
    assert og.values["description"] == "Keep the lights on."
    titled = fetch_posting(site.url + "/title")
    assert titled.found_in == FOUND_IN_TITLE
    assert (titled.values["title"], titled.values["company"]) == ("QA Lead", "Hooli")
    broken = fetch_posting(site.url + "/broken-ld")        # unreadable JSON-LD is skipped
    assert broken.values["title"] == "Support Engineer - Umbrella"


def test_html_to_text_keeps_paragraphs_and_drops_scripts():
    assert html_to_text("<p>One &amp; two</p><script>alert(1)</script><p>Three</p>") == \
        "One & two\n\nThree"


@pytest.mark.parametrize("path, reply, sentence", [
    ("/gone", None, "The page was not found (HTTP 404). Check the address"),
    ("/login", Reply(403, "no"), "would not show this page without signing in"),
    ("/busy", Reply(503, "down"), "The site is having trouble (HTTP 503)"),
    ("/pdf", None, "leads to a file (application/pdf), not a web page"),
])
def test_http_problems_become_plain_sentences(site, path, reply, sentence):
    if reply:
        site.inject(reply, path=path)
    with pytest.raises(PostingFetchError) as caught:
        fetch_posting(site.url + path)
    assert sentence in str(caught.value)


def test_slow_and_unreachable_sites(site):
    site.inject(Reply(200, "late", delay=1.0), path="/graph")
    with pytest.raises(PostingFetchError, match="took too long to answer"):
        fetch_posting(site.url + "/graph", timeout=(0.5, 0.3))
    with pytest.raises(PostingFetchError, match="Could not reach the site"):
        fetch_posting(refused_url() + "/job", timeout=1)
    with pytest.raises(PostingFetchError, match=r"starts with https://\)"):
        fetch_posting("jobs.example.com/1")


# -- the dialog ---------------------------------------------------------------------------------
@pytest.fixture
def repository(tmp_path, qtbot):
    store = JobStore(tmp_path / "jobs.sqlite3")
    yield JobRepository(store)
    store.close()


def open_dialog(qtbot, repository) -> UrlImportDialog:
    dialog = UrlImportDialog(repository, fetch_timeout=(1.0, 0.5))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fetch(qtbot, dialog: UrlImportDialog, url: str) -> None:
    type_into(qtbot, dialog.url_edit, url)
    click(qtbot, dialog.fetch_button)
    qtbot.waitUntil(lambda: dialog.fetch_button.isEnabled() and
                    dialog.status_label.text() != "Reading the page…", timeout=10_000)


def test_paste_fetch_review_and_save(qtbot, repository, site):
    dialog = open_dialog(qtbot, repository)
    assert not dialog.save_button.isEnabled()
    fetch(qtbot, dialog, site.url + "/graph")
    assert "Filled in from the posting's job data" in dialog.status_label.text()
    assert dialog.form.title.text() == "Senior Backend Engineer"
    assert dialog.form.company.text() == "Acme Robotics & Co"
    assert dialog.form.salary.text() == "EUR 70,000–85,000 per year"
    assert repository.store.count() == 0               # nothing saved before the user confirms
    type_into(qtbot, dialog.form.title, "Senior Backend Engineer (Robotics)")
    with qtbot.waitSignal(repository.job_added) as added:
        click(qtbot, dialog.save_button)
    job = added.args[0]
    assert job["title"] == "Senior Backend Engineer (Robotics)"
    assert job["url"] == site.url + "/graph"
    assert job["description"].startswith("Build robots.")
    assert not dialog.isVisible()


def test_the_dialog_fits_a_600_pixel_screen_and_its_address_has_a_label(qtbot, repository,
                                                                        site):
    dialog = open_dialog(qtbot, repository)
    hint = dialog.minimumSizeHint()
    assert hint.height() <= 600 - 48 and hint.width() <= 800 - 16       # beside a title bar
    dialog.resize(dialog.width(), 600 - 48)
    qtbot.waitUntil(lambda: dialog.height() == 600 - 48)
    assert dialog.save_button.geometry().bottom() < dialog.height()    # the buttons in view
    assert dialog.url_label.text() == "&Web address"
    assert sorted(set(mnemonics(dialog))) == sorted(mnemonics(dialog))   # each Alt+letter once
    dialog.form.setFocus()
    press_alt(qtbot, dialog, Qt.Key.Key_W)
    assert dialog.focusWidget() is dialog.url_edit
    type_into(qtbot, dialog.url_edit, site.url + "/graph")
    press_alt(qtbot, dialog, Qt.Key.Key_H)                              # Fetc&h
    qtbot.waitUntil(lambda: dialog.form.title.text() == "Senior Backend Engineer",
                    timeout=10_000)

    def left(widget) -> int:
        return widget.mapTo(dialog, QPoint(0, 0)).x()
    title_label = next(label for label in dialog.form.findChildren(QLabel)
                       if label.buddy() is dialog.form.title)
    assert left(dialog.url_label) == left(title_label)        # one label column…
    assert left(dialog.url_edit) == left(dialog.form.title)   # …and one field column


def test_a_failed_fetch_is_explained_and_the_form_can_be_filled_by_hand(qtbot, repository,
                                                                         site):
    dialog = open_dialog(qtbot, repository)
    fetch(qtbot, dialog, site.url + "/nothing-here")
    assert "The page was not found (HTTP 404)" in dialog.status_label.text()
    assert "fill in the details below by hand" in dialog.status_label.text()
    assert not dialog.save_button.isEnabled()
    type_into(qtbot, dialog.form.title, "Typed by hand")
    click(qtbot, dialog.save_button)
    assert repository.store.list_jobs()[0]["url"] == site.url + "/nothing-here"


def test_a_refused_connection_then_a_retry_that_works(qtbot, repository, site):
    dialog = open_dialog(qtbot, repository)
    fetch(qtbot, dialog, refused_url() + "/job")
    assert "Could not reach the site" in dialog.status_label.text()
    fetch(qtbot, dialog, site.url + "/og")
    assert dialog.form.title.text() == "Platform Engineer"
    assert "only its title and summary" in dialog.status_label.text()


def test_a_known_posting_is_not_fetched_twice(qtbot, repository, site):
    repository.add_job({"title": "Already here", "company": "Acme", "url": site.url + "/graph"})
    dialog = open_dialog(qtbot, repository)
    type_into(qtbot, dialog.url_edit, site.url + "/graph")
    click(qtbot, dialog.fetch_button)
    assert dialog.status_label.text() == "You already have this job: “Already here” at Acme."
    assert site.requests == []


# -- a hostile or slow network --------------------------------------------------------------------
from peregrine_desktop import workers  # noqa: E402
from peregrine_desktop.jobs import page_fetch  # noqa: E402
from peregrine_desktop.jobs.page_fetch import PageFetch, address_class  # noqa: E402
from peregrine_desktop.ui.pipeline.csv_dialogs import CsvImportDialog  # noqa: E402

DRIBBLE = Reply(200, page(title="Slow") * 20, {"Content-Type": "text/html"}, dribble=0.2)


def test_a_server_dribbling_bytes_is_cut_off_at_the_overall_deadline(site):
    # A byte every 0.2 s never trips the 1 s read timeout; the whole answer would take minutes.
    site.inject(DRIBBLE, path="/slow")
    with pytest.raises(PostingFetchError, match="took too long to answer"):
        fetch_posting(site.url + "/slow", timeout=(1.0, 1.0), deadline=1.0)
    assert site.client_left.wait(5)            # the connection was closed, not abandoned


def _dribbling_dialog(qtbot, repository, site) -> UrlImportDialog:
    site.inject(DRIBBLE, path="/slow")
    seen = len(site.matching(path="/slow"))
    dialog = open_dialog(qtbot, repository)
    dialog.fetch_deadline = 600.0              # only Cancel can end this fetch early
    type_into(qtbot, dialog.url_edit, site.url + "/slow")
    click(qtbot, dialog.fetch_button)
    qtbot.waitUntil(lambda: len(site.matching(path="/slow")) == seen + 1)
    return dialog


def test_cancel_closes_the_connection_and_frees_the_thread(qtbot, repository, site):
    dialog = _dribbling_dialog(qtbot, repository, site)
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Cancel))
    assert not dialog.isVisible()
    assert site.client_left.wait(5)
    qtbot.waitUntil(lambda: workers.pool("network").activeThreadCount() == 0, timeout=5000)


def test_eight_cancelled_imports_do_not_hold_up_a_csv_preview(qtbot, repository, site, tmp_path):
    for _ in range(8):
        dialog = _dribbling_dialog(qtbot, repository, site)
        dialog.reject()
        assert site.client_left.wait(5)
        site.client_left.clear()
    csv_file = tmp_path / "jobs.csv"
    csv_file.write_text("Title,Company\nAnalyst,Acme\n", encoding="utf-8")
    preview = CsvImportDialog(repository, csv_file)
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitUntil(lambda: preview.import_button.isEnabled(), timeout=5000)
    assert preview.import_button.text() == "&Import 1 job"


def test_quitting_cancels_a_stuck_fetch(qtbot, site):
    site.inject(DRIBBLE, path="/slow")
    fetch = PageFetch(deadline=600.0, read_timeout=600.0)
    outcome: list = []
    workers.submit(fetch_posting, site.url + "/slow", fetch=fetch, lane="network",
                   handler=lambda kind, payload: outcome.append(kind))
    qtbot.waitUntil(lambda: len(site.matching(path="/slow")) == 1)
    page_fetch.cancel_all()                    # what Application.shutdown does
    assert workers.pool("network").waitForDone(2000)
    qtbot.waitUntil(lambda: outcome == ["error"])


class Network:
    """Name resolution and connections as a test wants them: some names resolve to chosen
    addresses, an address can stand for the loopback server, every connection is recorded."""

    def __init__(self, names: dict[str, str], stands_in: dict[str, int] | None = None) -> None:
        self.names, self.stands_in = names, stands_in or {}
        self.connected: list[str] = []

    def resolve(self, host: str, port: int) -> list[str]:
        return [self.names[host]] if host in self.names else page_fetch.system_resolve(host, port)

    def open(self, ip: str, port: int, timeout: float):
        import socket
        self.connected.append(ip)
        if ip in self.stands_in:
            return socket.create_connection(("127.0.0.1", self.stands_in[ip]), timeout)
        return page_fetch.system_open(ip, port, timeout)

    def fetch(self) -> PageFetch:
        return PageFetch(deadline=10, resolve=self.resolve, open_socket=self.open)


def _redirect(site, path: str, location: str) -> None:
    site.route("GET", path)(lambda r, m: Reply(302, b"", {"Location": location}))


def test_a_redirect_to_the_metadata_address_is_refused_before_connecting(site):
    _redirect(site, "/jump", "http://metadata.internal/latest/meta-data/")
    _redirect(site, "/jump-literal", "http://169.254.169.254/latest/meta-data/")
    network = Network({"metadata.internal": "169.254.169.254"})
    for path in ("/jump", "/jump-literal"):
        with pytest.raises(PostingFetchError, match=r"link-local address .*169\.254\.169\.254.* "
                                                    "it was not opened"):
            fetch_posting(site.url + path, fetch=network.fetch())
    assert network.connected == ["127.0.0.1", "127.0.0.1"]      # nothing went to 169.254.*


def test_a_public_page_may_not_redirect_into_the_private_network(site):
    public = "93.184.215.14"
    network = Network({"jobs.example": public}, stands_in={public: site.port})
    site.route("GET", "/posting")(lambda r, m: Reply(302, b"", {
        "Location": f"http://127.0.0.1:{site.port}/admin"}))
    site.route("GET", "/router")(lambda r, m: Reply(302, b"", {"Location": "http://10.0.0.1/"}))
    with pytest.raises(PostingFetchError, match="redirected to this computer"):
        fetch_posting("http://jobs.example/posting", fetch=network.fetch())
    with pytest.raises(PostingFetchError, match=r"private network address \(10\.0\.0\.1\)"):
        fetch_posting("http://jobs.example/router", fetch=network.fetch())
    assert network.connected == [public, public]
    assert site.matching(path="/admin") == []


def test_a_page_on_this_computer_may_redirect_within_it(site):
    _redirect(site, "/moved", "/graph")
    assert fetch_posting(site.url + "/moved").values["title"] == "Senior Backend Engineer"


@pytest.mark.parametrize("ip, kind", [
    ("8.8.8.8", "public"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("100.64.0.1", "private"), ("127.0.0.1", "loopback"), ("::1", "loopback"),
    ("169.254.169.254", "link-local"), ("::ffff:169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("fd00::1", "private"), ("0.0.0.0", "private")])
def test_address_classes(ip, kind):
    assert address_class(ip) == kind


@pytest.mark.parametrize("json_ld", ["[" * 100_000 + "]" * 100_000,
                                     '{"a":' * 500 + "1" + "}" * 500,
                                     '{"@type": "JobPosting", "title": "' + "x" * 2_000_000 + '"}'])
def test_nested_or_oversized_json_ld_is_explained_not_a_crash(json_ld):
    markup = (f'<title>Analyst at Acme</title><script type="application/ld+json">{json_ld}'
              '</script>')
    draft = parse_posting(markup, "https://acme.test/jobs/1")
    assert draft.found_in == FOUND_IN_TITLE
    assert draft.values["title"] == "Analyst" and draft.values["company"] == "Acme"
    assert draft.message.startswith("The page's job data is too large or too deeply nested")


def test_cancel_ends_a_fetch_stuck_in_a_name_lookup():
    import threading

    from peregrine_desktop.jobs.page_fetch import FetchCancelled

    asked, release = threading.Event(), threading.Event()

    def stuck_lookup(host: str, port: int) -> list[str]:
        asked.set()
        release.wait(30)           # a resolver that never answers (a dead DNS server)
        return ["127.0.0.1"]

    fetch = PageFetch(deadline=600.0, connect_timeout=600.0, resolve=stuck_lookup)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            fetch.get("http://jobs.example/1")
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert asked.wait(5)
    fetch.cancel()
    worker.join(5)
    release.set()
    assert not worker.is_alive() and isinstance(outcome[0], FetchCancelled)
    assert fetch.connections == []
