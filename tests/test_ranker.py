"""The learned ranker: its file, its training (deterministic, grouped folds, genres weighed alike)."""
from dataclasses import replace

import numpy as np
import pytest

from retrieval.errors import YanduError
from retrieval.eval import train
from retrieval.search.features import FEATURES, ROW_FEATURES
from retrieval.search.ranker import METHODS, RANKER_FILE, Ranker


def synthetic(n_questions=60, seed=0):
    """Questions whose gold row is the one with the highest "role_heading" + "coverage" (a planted
    signal), the dense score pure noise; half party, half government, three questions a report."""
    rng = np.random.default_rng(seed)
    out = []
    role, cover = FEATURES.index("role_heading"), FEATURES.index("coverage")
    for q in range(n_questions):
        x = rng.random((30, len(FEATURES)))
        x[:, role] = rng.random(30) > 0.7
        x[:, FEATURES.index("role_paragraph")] = 0.0  # a role shown by headings is not counted twice
        gold = int(np.argmax(x[:, role] * 2 + x[:, cover]))
        labels = np.zeros(30, dtype=np.int64)
        labels[gold] = 2
        out.append(train.Sample(f"q{q}", "party" if q % 2 else "gov", f"report{q // 3}", x, labels))
    return out


def test_the_shipped_ranker_file_round_trips_byte_for_byte(tmp_path):
    ranker = Ranker.load()
    ranker.save(tmp_path / "ranker.json")
    assert (tmp_path / "ranker.json").read_bytes() == RANKER_FILE.read_bytes()
    assert ranker.trained["folds"] >= 2 and set(ranker.trained["questions"]) == {"party", "gov"}


def test_a_ranker_file_for_other_features_or_an_unknown_method_is_refused(tmp_path):
    ranker = Ranker.load()
    with pytest.raises(YanduError, match="train-ranker"):
        replace(ranker, features=FEATURES[:-1])
    with pytest.raises(YanduError, match="lambdarank"):
        replace(ranker, method="handset")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(YanduError, match="train-ranker"):
        Ranker.load(tmp_path / "bad.json")


@pytest.mark.parametrize("method", METHODS)
def test_training_finds_a_planted_signal_and_is_deterministic(tmp_path, method):
    samples = synthetic()
    a, b = train.fit(samples, train.Setting(method)), train.fit(samples, train.Setting(method))
    a.save(tmp_path / "a.json")
    b.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    held = train.evaluate(a, synthetic(seed=1))
    assert min(held.hit1.values()) >= 0.25  # noise alone would give ~1/30


def test_folds_never_split_a_report_and_genres_weigh_the_same():
    samples = synthetic()
    seen = set()
    for test in train.folds(samples, 5):
        groups = {samples[i].group for i in test}
        assert not groups & seen
        seen |= groups
    assert len(seen) == 20
    lopsided = samples[:10] + [s for s in samples[10:] if s.genre == "gov"]
    lopsided = [replace(s, qid=f"derived:{s.qid}") if i % 3 else s for i, s in enumerate(lopsided)]
    for share in train.ASKED_SHARES:
        w = train.weights(lopsided, share)
        total = {(g, a): sum(x for x, s in zip(w, lopsided) if s.genre == g and s.asked == a)
                 for g in ("party", "gov") for a in (True, False)}
        assert total["party", True] + total["party", False] == pytest.approx(total["gov", True] + total["gov", False])
        if share is not None:
            assert total["gov", True] == pytest.approx(share * (total["gov", True] + total["gov", False]))


def test_a_reports_fold_does_not_depend_on_how_many_questions_any_report_has():
    samples = synthetic()
    before = {samples[i].group: f for f, test in enumerate(train.folds(samples, 5)) for i in test}
    grown = samples + [replace(s, qid=f"{s.qid}+") for s in samples if s.group == samples[0].group] * 3
    after = {grown[i].group: f for f, test in enumerate(train.folds(grown, 5)) for i in test}
    assert after == before
    for genre in ("party", "gov"):  # each genre's reports dealt evenly
        sizes = [len({samples[i].group for i in test if samples[i].genre == genre}) for test in train.folds(samples, 5)]
        assert max(sizes) - min(sizes) <= 1


def test_training_writes_what_it_chose_with_the_fold_scores(tmp_path):
    ranker, table = train.train(synthetic(), tmp_path / "r.json", k=3)
    assert Ranker.load(tmp_path / "r.json").to_json() == ranker.to_json()
    assert ranker.trained["chosen"] in table and ranker.trained["folds"] == 3
    assert len(ranker.first.weights) == len(ROW_FEATURES) and ranker.depth in train.DEPTHS


def test_collected_features_are_kept_under_the_rules_that_computed_them(tmp_path):
    """A feature whose rule or vocabulary changed under the same name is collected again: the cache key
    holds a digest of retrieval/search, text.py and the vocabulary (a changed rule once trained on
    the features of the rule before it)."""
    import shutil

    package = tmp_path / "retrieval"
    shutil.copytree(train.PACKAGE / "search", package / "search")
    shutil.copytree(train.PACKAGE / "data", package / "data")
    shutil.copy(train.PACKAGE / "text.py", package / "text.py")
    before = train.features_version(package)
    assert before == train.features_version(train.PACKAGE) == train.features_version(package)
    with open(package / "data" / "synonyms.txt", "a", encoding="utf-8") as f:
        f.write("督查 巡查\n")
    assert train.features_version(package) != before
    (package / "data" / "synonyms.txt").write_bytes((train.PACKAGE / "data" / "synonyms.txt").read_bytes())
    (package / "search" / "features.py").write_text("# another rule\n", encoding="utf-8")
    assert train.features_version(package) != before
