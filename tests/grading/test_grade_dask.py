"""`convlab grade --scheduler`: the same work on a real Dask cluster (a scheduler and two worker
processes on 127.0.0.1), with the same grades as a local run."""
import coursekit as ck
import pytest

from autograder.grading.grade import grade
from autograder.sandbox import bubblewrap as sandbox

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")

pytestmark = [
    pytest.mark.grading,
    pytest.mark.skipif(not sandbox.available(), reason=f"no sandbox here: {sandbox.why_unavailable()}"),
]


def test_grading_on_a_dask_cluster(tmp_path):
    course = ck.make_course(tmp_path)
    answers = ck.solution_answers(course)
    ck.write_submission(course, "right", answers)
    flipped = answers["corr2d"].replace("windows * K", "windows * K.flip(0, 1)")
    ck.write_submission(course, "flipped", {**answers, "corr2d": flipped})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert grade(course, scheduler=cluster.scheduler_address, timeout=60) == 0
        ran = {t.key for t in cluster.scheduler.transition_log
               if str(t.key).startswith("run_job") and t.finish == "memory"}
    assert len(ran) == 2, "each notebook should run as one task on the cluster"
    assert ck.scores(course, "right") == {"corr2d_visible": 1.0, "corr2d_hidden": 2.0, "output_shape_test": 1.0}
    assert ck.scores(course, "flipped") == {"corr2d_visible": 0.0, "corr2d_hidden": 0.0, "output_shape_test": 1.0}
    assert "flipped" in (course / "autograded" / "flipped" / "ps1" / "ps1.ipynb").read_text()
