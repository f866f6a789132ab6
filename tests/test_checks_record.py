"""Records written in the kernel and judged outside it: honest ones pass, forged or malformed ones fail."""
import json
import pickle

import numpy as np
import pytest
import torch

from autograder.grading import rejudge
from autograder.grading.rejudge import verify_records
from convlab.checks import CheckFailed, answer, lesson01, lesson06, record
from convlab.checks import compare as compare_module

pytestmark = pytest.mark.grading


def corr2d(X, K):
    windows = X.unfold(0, K.shape[0], 1).unfold(1, K.shape[1], 1)  # (H', W', kh, kw)
    return torch.einsum("hwij,ij->hw", windows, K)


def flipped(X, K):
    return corr2d(X, K.flip(0, 1))


@pytest.fixture
def record_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVLAB_RECORD_DIR", str(tmp_path))
    monkeypatch.setenv("CONVLAB_CELL_ID", "cell-visible")
    return tmp_path


def only(verdicts, cell="cell-visible"):
    assert list(verdicts) == [cell], verdicts
    assert len(verdicts[cell]) == 1, verdicts
    return verdicts[cell][0]


def test_an_honest_passing_record_passes(record_dir, monkeypatch):
    lesson01.corr2d(corr2d)
    monkeypatch.setenv("CONVLAB_CELL_ID", "cell-hidden")
    lesson01.corr2d(corr2d, seed=831, cases=20)
    names = sorted(p.name for p in record_dir.iterdir())
    assert names == ["0001-lesson01.corr2d.json", "0001-lesson01.corr2d.npz",
                     "0002-lesson01.corr2d.json", "0002-lesson01.corr2d.npz"]
    document = json.loads((record_dir / "0002-lesson01.corr2d.json").read_text())
    assert (document["check"], document["seed"], document["cases"], document["cell_id"]) == \
        ("lesson01.corr2d", 831, 20, "cell-hidden")
    assert {r["device"] for r in document["runs"]} >= {"cpu", "meta"}
    verdicts = verify_records(record_dir)
    assert [v.passed for v in verdicts["cell-visible"]] == [True]
    hidden = verdicts["cell-hidden"][0]
    assert hidden.passed and (hidden.check, hidden.seed, hidden.cases) == ("lesson01.corr2d", 831, 20)


def test_an_honest_failing_record_fails_with_the_same_feedback(record_dir):
    with pytest.raises(CheckFailed) as failure:
        lesson01.corr2d(flipped)
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and verdict.message == str(failure.value)


def test_tuple_outputs_and_int_answers_are_recorded_and_verified(record_dir):
    import sys
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from checks.answers import max_pool2d, receptive_field

    from convlab.checks import lesson05
    lesson06.max_pool2d(max_pool2d)
    lesson05.receptive_field(receptive_field)
    verdicts = verify_records(record_dir)["cell-visible"]
    assert [(v.check, v.passed) for v in verdicts] == [("lesson06.max_pool2d", True),
                                                      ("lesson05.receptive_field", True)]


def test_a_check_fooled_inside_the_kernel_still_fails_outside(record_dir, monkeypatch):
    # Everything the kernel uses to judge is patched to say "right"; the record keeps the wrong values.
    monkeypatch.setattr(compare_module, "compare", lambda *a, **k: None)
    monkeypatch.setattr("convlab.checks.core.compare", lambda *a, **k: None)
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    lesson01.corr2d(flipped)  # passes in the kernel
    monkeypatch.undo()
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "kernel flipped" in verdict.message


def test_a_record_claiming_to_pass_is_judged_on_its_values(record_dir):
    with pytest.raises(CheckFailed):
        lesson01.corr2d(flipped)
    path = record_dir / "0001-lesson01.corr2d.json"
    document = json.loads(path.read_text())
    document.update(passed=True, feedback=None)
    for run in document["runs"]:
        run["exception"] = None
    path.write_text(json.dumps(document))
    assert not only(verify_records(record_dir)).passed


def test_forged_values_in_the_npz_fail(record_dir):
    lesson01.corr2d(corr2d)
    path = record_dir / "0001-lesson01.corr2d.npz"
    with np.load(path) as archive:
        arrays = {k: archive[k] + 1.0 for k in archive.files}
    np.savez(path, **arrays)
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "wrong values" in verdict.message


def test_a_record_with_missing_cases_fails(record_dir):
    lesson01.corr2d(corr2d)
    path = record_dir / "0001-lesson01.corr2d.json"
    document = json.loads(path.read_text())
    document["runs"] = [r for r in document["runs"] if r["case"] != 2]
    path.write_text(json.dumps(document))
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "case 3 was not run" in verdict.message


def test_a_recorded_banned_op_fails(record_dir):
    with pytest.raises(CheckFailed):
        lesson01.corr2d(lambda X, K: torch.nn.functional.conv2d(X[None, None], K[None, None])[0, 0])
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "aten.convolution" in verdict.message


def test_a_pickled_npz_is_refused_and_never_unpickled(record_dir, monkeypatch):
    lesson01.corr2d(corr2d)
    path = record_dir / "0001-lesson01.corr2d.npz"
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["a0"] = np.array([object()], dtype=object)
    np.savez(path, **arrays)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled a record"))
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "not a plain npz" in verdict.message


def test_a_pickle_posing_as_npz_is_refused(record_dir):
    lesson01.corr2d(corr2d)
    (record_dir / "0001-lesson01.corr2d.npz").write_bytes(pickle.dumps({"a0": np.zeros(3)}))
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "not a plain npz" in verdict.message


def test_oversized_files_are_refused(record_dir, monkeypatch):
    lesson01.corr2d(corr2d)
    monkeypatch.setattr(rejudge, "MAX_NPZ_BYTES", 100)
    verdict = only(verify_records(record_dir))
    assert not verdict.passed and "larger than" in verdict.message
    monkeypatch.setattr(rejudge, "MAX_JSON_BYTES", 100)
    verdict = only(verify_records(record_dir), cell="")  # a record too large to read names no cell
    assert not verdict.passed and "larger than" in verdict.message


@pytest.mark.parametrize("text, reason", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "not a convlab record"),
    (json.dumps({"format": record.FORMAT, "check": "lesson01.corr2d", "seed": 0, "cases": None,
                 "cell_id": "cell-visible", "runs": "all good"}), "runs is not a list"),
    (json.dumps({"format": record.FORMAT, "check": "lesson01.corr2d", "seed": 0, "cases": None,
                 "cell_id": "cell-visible", "runs": [{"case": 99, "device": "cpu"}]}), "no valid case"),
    (json.dumps({"format": record.FORMAT, "check": "lesson01.corr2d", "seed": 0, "cases": 10**9,
                 "cell_id": "cell-visible", "runs": []}), "cases must be an int"),
])
def test_malformed_records_fail_with_a_reason(tmp_path, text, reason):
    (tmp_path / "0001-lesson01.corr2d.json").write_text(text)
    verdicts = verify_records(tmp_path)
    (verdict,) = [v for vs in verdicts.values() for v in vs]
    assert not verdict.passed and reason in verdict.message


def test_unknown_or_mislabelled_checks_fail(tmp_path):
    base = {"format": record.FORMAT, "seed": 0, "cases": None, "cell_id": "c", "runs": []}
    (tmp_path / "0001-lesson99.anything.json").write_text(json.dumps({**base, "check": "lesson99.anything"}))
    (tmp_path / "0002-lesson01.MAX_CASES.json").write_text(json.dumps({**base, "check": "lesson01.MAX_CASES"}))
    (tmp_path / "0003-lesson01.corr2d.json").write_text(json.dumps({**base, "check": "lesson02.corr2d"}))
    verdicts = verify_records(tmp_path)["c"]
    assert [v.passed for v in verdicts] == [False, False, False]
    assert "unknown check" in verdicts[0].message and "unknown check" in verdicts[1].message
    assert "differ" in verdicts[2].message


def test_answers_are_recorded_and_judged(record_dir):
    answer("q1", (1, 10, 98, 98), torch.Size([1, 10, 98, 98]))
    with pytest.raises(CheckFailed):
        answer("q2", 750, 760)
    verdicts = verify_records(record_dir)["cell-visible"]
    assert [(v.check, v.passed) for v in verdicts] == [("answer:q1", True), ("answer:q2", False)]
    assert "760" not in verdicts[1].message


def test_a_forged_expected_value_loses_to_the_graders_own(record_dir):
    from autograder.grading.rejudge import trusted_expected
    record.write_answer_record("q1", [1, 10, 99, 99], [1, 10, 99, 99])  # what a patched kernel would write
    expected = trusted_expected("(1, 10) + conv_output_shape((100, 100), 3)")
    assert expected == (1, 10, 98, 98)
    assert only(verify_records(record_dir)).passed  # without the grader's expected value it cannot tell
    verdict = only(verify_records(record_dir, answers={"q1": expected}))
    assert not verdict.passed and "98" not in verdict.message
    record.write_answer_record("q2", [1, 10, 98, 98], [0])
    assert [v.passed for v in verify_records(record_dir, answers={"q2": expected})["cell-visible"]] == [True, True]


def test_nothing_is_written_without_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("CONVLAB_RECORD_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    lesson01.corr2d(corr2d)
    assert list(tmp_path.iterdir()) == []
