from __future__ import annotations

from flickrspider.ledger import PENDING, REJECTED, STORED, Ledger
from flickrspider.store import is_complete_jpeg, write_atomic

JPEG = b"\xff\xd8" + b"x" * 100 + b"\xff\xd9"


def test_claims_fill_slots_in_order_per_keyword(tmp_path):
    ledger = Ledger(tmp_path, shard_size=2)
    paths = [ledger.claim(str(i), "paris", f"{i}_s_1_o@N00.jpg").path for i in range(1, 6)]
    assert paths[0] == "paris/00000/1_s_1_o@N00.jpg"
    assert paths[2].startswith("paris/00001/") and paths[4].startswith("paris/00002/")
    assert ledger.claim("9", "tokyo", "9_s_1_o@N00.jpg").path.startswith("tokyo/00000/")


def test_claim_again_keeps_the_slot(tmp_path):
    ledger = Ledger(tmp_path, shard_size=10)
    first = ledger.claim("7", "paris", "7_s_1_o@N00.jpg")
    ledger.claim("8", "paris", "8_s_1_o@N00.jpg")
    assert ledger.claim("7", "paris", "7_s_1_o@N00.jpg") == first


def test_states_persist_across_reopen(tmp_path):
    ledger = Ledger(tmp_path, shard_size=10)
    ledger.claim("1", "paris", "1_s_1_o@N00.jpg")
    ledger.mark_stored("1")
    ledger.mark_rejected("2", "paris")
    ledger.claim("3", "paris", "3_s_1_o@N00.jpg")
    ledger.close()
    again = Ledger(tmp_path, shard_size=10)
    assert (again.state("1"), again.state("2"), again.state("3"), again.state("4")) == (
        STORED,
        REJECTED,
        PENDING,
        None,
    )
    assert again.path_of("1") == "paris/00000/1_s_1_o@N00.jpg"
    assert again.path_of("2") is None
    assert again.count(STORED) == 1


def test_reconcile_confirms_complete_files_and_clears_partial_ones(tmp_path):
    ledger = Ledger(tmp_path, shard_size=10)
    done = ledger.claim("1", "paris", "1_s_1_o@N00.jpg")
    broken = ledger.claim("2", "paris", "2_s_1_o@N00.jpg")
    missing = ledger.claim("3", "paris", "3_s_1_o@N00.jpg")
    write_atomic(tmp_path, done.path, JPEG)  # renamed, but the crash hit before mark_stored
    (tmp_path / broken.path).write_bytes(JPEG[:50])
    (tmp_path / (broken.path + ".part")).write_bytes(b"partial")
    assert ledger.reconcile(is_complete_jpeg) == (1, 2)
    assert ledger.state("1") == STORED and ledger.state("2") == PENDING
    assert not (tmp_path / broken.path).exists()
    assert not (tmp_path / (broken.path + ".part")).exists()
    # the slots are kept for when the photos come round again
    assert ledger.claim("2", "paris", "2_s_1_o@N00.jpg") == broken
    assert ledger.claim("3", "paris", "3_s_1_o@N00.jpg") == missing


def test_only_a_lone_writer_may_clean_up(tmp_path):
    first = Ledger(tmp_path, shard_size=10)
    assert first.join_writers()  # nobody else: may reconcile
    first.share_writing()
    second = Ledger(tmp_path, shard_size=10)
    assert not second.join_writers()  # the first still writes: hands off its .part files
    second.close()
    first.close()
    third = Ledger(tmp_path, shard_size=10)
    assert third.join_writers()
    third.close()


def _open_ledger(args: tuple[str, int]) -> int:
    store, _ = args
    ledger = Ledger(store, 1000)
    try:
        return ledger.count()
    finally:
        ledger.close()


def test_processes_opening_a_new_ledger_together_all_succeed(tmp_path):
    # Two Scrapyd jobs started at once into a new IMAGES_STORE: switching a new
    # database to WAL at the same moment made one of them fail "database is locked".
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for round_ in range(15):
        store = str(tmp_path / f"store{round_}")
        with context.Pool(6) as pool:
            assert pool.map(_open_ledger, [(store, n) for n in range(6)]) == [0] * 6
