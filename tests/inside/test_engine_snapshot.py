"""The engine snapshot: what learner code changes of the grader's modules is told apart and put back,
containers by their contents (emptied or refilled differently), growth left alone."""
import types

from autograder.inside.engine_snapshot import Snapshot


def _module():
    module = types.ModuleType("snapshot_subject")
    module.watches = ["first"]
    module.table = {"a": 1}
    module.hits = []

    def check(x):
        return x

    module.check = check
    return module


def test_a_container_emptied_in_place_is_a_change_and_is_refilled():
    module = _module()
    snapshot = Snapshot([module])
    module.watches.clear()
    module.table.pop("a")
    assert snapshot.changes() == ["snapshot_subject.table (its contents)", "snapshot_subject.watches (its contents)"]
    snapshot.restore()
    assert module.watches == ["first"] and module.table == {"a": 1} and snapshot.changes() == []


def test_a_container_that_only_grows_is_no_change():
    module = _module()
    snapshot = Snapshot([module])
    module.hits.append("aten.convolution")
    module.table["b"] = 2
    assert snapshot.changes() == []


def test_an_entry_replaced_or_a_function_rewritten_is_a_change():
    module = _module()
    snapshot = Snapshot([module])
    module.watches[0] = "other"
    module.check.__code__ = (lambda x: 0).__code__
    changes = snapshot.changes()
    assert len(changes) == 2 and changes[0] == "snapshot_subject.watches (its contents)"
    assert changes[1].endswith("check (its code)")
    snapshot.restore()
    assert module.check(3) == 3
