"""The job journal (``flickrspider.job``): task keys, states, photos taken, size per photo."""

from __future__ import annotations

from flickrspider.job import FILE_NAME, JobJournal, task_key
from flickrspider.ledger import Ledger

TASK = {
    "kw": "paris",
    "start": 10,
    "end": 20,
    "page": 2,
    "kind": "page",
    "sort": "date-posted-asc",
    "hi": 99,
    "rate": 0.5,
    "first": False,
    "pages": 3,
}


def test_task_key_is_the_request_identity_not_the_planning_state():
    assert task_key(TASK) == task_key({**TASK, "rate": 9.0, "pages": 7})
    for field, value in (
        ("page", 3),
        ("end", 21),
        ("kw", "lyon"),
        ("sort", "relevance"),
        ("hi", 98),
    ):
        assert task_key({**TASK, field: value}) != task_key(TASK), field
    # a keyword's first probe is known by its keyword, whatever "now" was when it started
    first = {**TASK, "first": True, "kind": "probe", "page": 1}
    assert task_key(first) == task_key({**first, "end": 12345, "hi": 12345})
    assert task_key(first) != task_key({**first, "kw": "lyon"})


def test_tasks_are_added_once_finished_once_and_pending_ones_survive_reopen(tmp_path):
    journal = JobJournal(tmp_path)
    assert not journal.resumed
    a, b = task_key(TASK), task_key({**TASK, "page": 3})
    assert journal.add(a, TASK, priority=1) and journal.add(b, {**TASK, "page": 3})
    assert not journal.add(a, TASK) and journal.knows(a)
    journal.finish(a)
    assert journal.counts() == (1, 1)
    journal.close()
    again = JobJournal(tmp_path)
    assert again.resumed and again.runs == 2
    [pending] = list(again.pending())
    assert pending.key == b and pending.task == {**TASK, "page": 3} and pending.priority == 0
    assert not again.add(a, TASK)  # done tasks are never issued again


def test_finished_flag_is_cleared_by_a_new_run_until_it_finishes(tmp_path):
    journal = JobJournal(tmp_path)
    journal.mark_finished()
    journal.close()
    again = JobJournal(tmp_path)
    assert again.was_finished
    again.close()
    assert not JobJournal(tmp_path).was_finished  # that run never said it finished


def test_photos_taken_by_the_job(tmp_path):
    journal = JobJournal(tmp_path)
    journal.take(123)
    journal.take(123)
    assert journal.took(123) and not journal.took(124)


def test_durable_state_is_compact(tmp_path):
    """Bytes per photo of the whole durable state: the job journal plus the dataset ledger."""
    photos, per_page = 20_000, 250
    journal = JobJournal(tmp_path / "job")
    ledger = Ledger(tmp_path / "store", shard_size=1000)
    journal.db.execute("BEGIN")
    for page in range(photos // per_page):
        task = {**TASK, "page": page, "start": page * 1000, "end": page * 1000 + 999}
        journal.add(task_key(task), task)
        journal.finish(task_key(task))
    for n in range(photos):
        pid = 50_000_000_000 + n * 7919
        journal.take(pid)
        claim = ledger.claim(
            str(pid), "paris" if n % 2 else "new york", f"{pid}_0a1b2c3d4e_65535_12345678@N07.jpg"
        )
        assert claim.path
        ledger.mark_stored(str(pid))
    journal.db.execute("COMMIT")
    for db in (journal.db, ledger.db):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    journal_bytes = (tmp_path / "job" / FILE_NAME).stat().st_size / photos
    ledger_bytes = (tmp_path / "store" / ".flickrspider" / "ledger.sqlite").stat().st_size / photos
    print(f"durable state per photo: journal {journal_bytes:.1f} B, ledger {ledger_bytes:.1f} B")
    assert journal_bytes < 16
    assert ledger_bytes < 80
