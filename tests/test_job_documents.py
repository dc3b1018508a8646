"""A job's documents and their copies, in the real job database (SQLite)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from peregrine_desktop.jobs.documents import (DocumentError, JobDocuments, looks_unchanged,
                                              measure)
from peregrine_desktop.jobs.store import JobNotFoundError, JobStore


@pytest.fixture
def store(tmp_path):
    job_store = JobStore(tmp_path / "jobs.sqlite3")
    yield job_store
    job_store.close()


@pytest.fixture
def documents(store):
    return JobDocuments(store)


@pytest.fixture
def job(store):
    return store.add_job({"title": "SRE", "company": "ACME"})


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def test_measure_hashes_and_sizes_the_file(tmp_path):
    path = write(tmp_path / "resume.pdf", b"%PDF resume v1")
    facts = measure(path)
    assert facts.sha256 == hashlib.sha256(b"%PDF resume v1").hexdigest()
    assert facts.size == 14
    assert looks_unchanged(path, facts.size, facts.mtime)
    write(path, b"%PDF resume v2, longer")
    assert not looks_unchanged(path, facts.size, facts.mtime)


def test_measure_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(DocumentError, match="There is no file at"):
        measure(tmp_path / "gone.pdf")


def test_attach_lists_the_document_with_its_facts(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"resume")
    document, changed = documents.attach(job["id"], path, measure(path))
    assert changed and document.revision == 1
    [listed] = documents.list_for_job(job["id"])
    assert (listed.name, listed.local_path, listed.size) == ("resume.pdf", path, 6)
    assert listed.sha256 == hashlib.sha256(b"resume").hexdigest()
    assert listed.added_at and listed.copies == {}


def test_attaching_the_same_unchanged_file_again_changes_nothing(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"resume")
    first, _ = documents.attach(job["id"], path, measure(path))
    again, changed = documents.attach(job["id"], path, measure(path))
    assert not changed and again.revision == first.revision == 1
    assert len(documents.list_for_job(job["id"])) == 1


def test_attaching_a_changed_file_of_the_same_name_is_a_new_revision(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"resume v1")
    documents.attach(job["id"], path, measure(path))
    other = tmp_path / "elsewhere"
    other.mkdir()
    newer = write(other / "resume.pdf", b"resume v2")
    document, changed = documents.attach(job["id"], newer, measure(newer))
    assert changed and document.revision == 2 and document.local_path == newer
    assert len(documents.list_for_job(job["id"])) == 1


def test_documents_are_listed_by_name_per_job(documents, store, job, tmp_path):
    other_job = store.add_job({"title": "Designer", "company": "Globex"})
    for name in ("cover-letter.pdf", "Resume.pdf", "portfolio.zip"):
        path = write(tmp_path / name, name.encode())
        documents.attach(job["id"], path, measure(path))
    path = write(tmp_path / "other.pdf", b"other")
    documents.attach(other_job["id"], path, measure(path))
    assert [d.name for d in documents.list_for_job(job["id"])] == [
        "cover-letter.pdf", "portfolio.zip", "Resume.pdf"]
    assert [d.name for d in documents.list_for_job(other_job["id"])] == ["other.pdf"]


def test_attach_to_a_missing_job_is_refused(documents, tmp_path):
    path = write(tmp_path / "resume.pdf", b"resume")
    with pytest.raises(JobNotFoundError):
        documents.attach(999, path, measure(path))


def test_replace_puts_another_file_in_place(documents, job, tmp_path):
    old = write(tmp_path / "resume-2025.pdf", b"old")
    document, _ = documents.attach(job["id"], old, measure(old))
    new = write(tmp_path / "resume-2026.pdf", b"new")
    replaced, changed = documents.replace(document.id, new, measure(new))
    assert changed and replaced.id == document.id and replaced.revision == 2
    assert (replaced.name, replaced.local_path) == ("resume-2026.pdf", new)


def test_replace_with_the_name_of_another_document_is_refused(documents, job, tmp_path):
    resume = write(tmp_path / "resume.pdf", b"resume")
    letter = write(tmp_path / "letter.pdf", b"letter")
    documents.attach(job["id"], resume, measure(resume))
    document, _ = documents.attach(job["id"], letter, measure(letter))
    with pytest.raises(DocumentError, match="already has a document named resume.pdf"):
        documents.replace(document.id, resume, measure(resume))
    assert documents.get(document.id).name == "letter.pdf"


def test_refresh_makes_a_revision_only_when_content_changed_or_forced(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    document, _ = documents.attach(job["id"], path, measure(path))
    same, changed = documents.refresh(document.id, measure(path))
    assert not changed and same.revision == 1
    write(path, b"v2")
    newer, changed = documents.refresh(document.id, measure(path))
    assert changed and newer.revision == 2
    forced, changed = documents.refresh(document.id, measure(path), force=True)
    assert changed and forced.revision == 3


def test_copies_record_the_latest_revision_and_its_location(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    document, _ = documents.attach(job["id"], path, measure(path))
    assert documents.record_copy(document.id, "nextcloud", 1, "https://cloud/1", document.sha256)
    assert documents.get(document.id).is_stored_at("nextcloud")
    write(path, b"v2")
    newer, _ = documents.refresh(document.id, measure(path))
    assert not newer.is_stored_at("nextcloud")            # v2 has not arrived yet
    assert newer.copies["nextcloud"].location == "https://cloud/1"
    assert documents.record_copy(document.id, "nextcloud", 2, "https://cloud/2", newer.sha256)
    assert not documents.record_copy(document.id, "nextcloud", 1, "https://cloud/1", "late")
    copy = documents.get(document.id).copies["nextcloud"]
    assert (copy.revision, copy.location, copy.sha256) == (2, "https://cloud/2", newer.sha256)
    assert copy.uploaded_at


def test_a_problem_is_kept_until_that_revision_arrives(documents, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    document, _ = documents.attach(job["id"], path, measure(path))
    assert documents.record_problem(document.id, "dropbox", 1, "Could not reach the service.")
    assert not documents.record_problem(document.id, "dropbox", 1,
                                        "Could not reach the service.")   # nothing new
    copy = documents.get(document.id).copies["dropbox"]
    assert (copy.error, copy.error_revision, copy.revision, copy.gave_up) == (
        "Could not reach the service.", 1, 0, False)
    assert documents.record_problem(document.id, "dropbox", 1, "Gave up.", gave_up=True)
    assert documents.get(document.id).copies["dropbox"].gave_up
    documents.record_copy(document.id, "dropbox", 1, "https://dropbox/x", document.sha256)
    copy = documents.get(document.id).copies["dropbox"]
    assert copy.error is None and not copy.gave_up and copy.location == "https://dropbox/x"
    assert not documents.record_problem(document.id, "dropbox", 1, "stale failure")


def test_remove_forgets_the_document_and_its_copies(documents, store, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    document, _ = documents.attach(job["id"], path, measure(path))
    documents.record_copy(document.id, "nextcloud", 1, "https://cloud/1", document.sha256)
    removed = documents.remove(document.id)
    assert removed.name == "resume.pdf" and removed.copies["nextcloud"].location
    assert documents.list_for_job(job["id"]) == []
    assert not documents.record_copy(document.id, "nextcloud", 2, "late", "x")
    with store.connection() as conn:
        assert conn.execute("SELECT COUNT(*) FROM document_copies").fetchone()[0] == 0


def test_deleting_the_job_deletes_its_documents(documents, store, job, tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    document, _ = documents.attach(job["id"], path, measure(path))
    store.delete_job(job["id"])
    assert documents.get(document.id) is None
    assert store.integrity_check() == []


def test_documents_survive_reopening_the_database(tmp_path):
    path = write(tmp_path / "resume.pdf", b"v1")
    first = JobStore(tmp_path / "jobs.sqlite3")
    job = first.add_job({"title": "SRE", "company": "ACME"})
    document, _ = JobDocuments(first).attach(job["id"], path, measure(path))
    JobDocuments(first).record_copy(document.id, "mega", 1, "https://mega.nz/x", "abc")
    first.close()
    second = JobStore(tmp_path / "jobs.sqlite3")
    try:
        [again] = JobDocuments(second).list_for_job(job["id"])
        assert again.copies["mega"].location == "https://mega.nz/x"
    finally:
        second.close()
