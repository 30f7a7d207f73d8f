"""Training with several processes (`forecaster train --nproc`, torchrun): two gloo ranks
through the real CLI, the exactness of the data-parallel reduction, faults and interrupts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from forecaster import artifact, distributed, launch
from forecaster.distributed import World, batch_share, placements, share_networks
from forecaster.threads import oversubscription, usable_cores
from tests.conftest import ROOT, invoke, long_frame, run_forecaster

# Three networks on two ranks: networks 0 and 1 alone (one per rank), network 2 data
# parallel. No dropout, so that the data-parallel network takes the same steps as in one
# process (each rank would draw its own dropout masks).
SMALL = ["--epochs", "3", "--hidden", "8", "--batch-size", "32", "--ensemble", "3",
         "--dropout", "0", "--patience", "50", "--horizon", "12", "--quiet"]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available(), reason="this torch build has no torch.distributed"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("distributed") / "long.csv"
    long_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def one_process(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model one process trains, to compare both splits with (trained once)."""
    model = tmp_path_factory.mktemp("one") / "one.fcst"
    result = invoke(["train", str(data), "-o", str(model), *SMALL])
    assert result.exit_code == 0, result.stderr
    return model


@pytest.mark.parametrize("split", ["pooled", "data parallel"])
def test_two_processes_train_the_model_one_process_trains(
    data: Path, one_process: Path, tmp_path: Path, split: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Networks 0 and 1 alone, one per rank; network 2 on rank 0 with both ranks' threads
    (the default on one machine's CPU), or data parallel over both ranks (forced)."""
    monkeypatch.setenv(distributed.FORCE_DATA_PARALLEL, "1" if split == "data parallel" else "0")
    one, two = one_process, tmp_path / "two.fcst"
    second = run_forecaster(["train", str(data), "-o", str(two), "--nproc", "2", *SMALL])
    assert second.returncode == 0, second.stderr.decode()
    assert second.stderr == b"", second.stderr.decode()  # quiet means quiet on every rank
    a, b = artifact.load(one), artifact.load(two)
    assert b.summary["processes"] == 2 and a.summary["processes"] == 1
    placed = [(m["processes"], m["threads"]) for m in b.summary["members"]]
    assert placed == [(1, 1), (1, 1), (2, 1) if split == "data parallel" else (1, 2)]
    assert [(m["processes"], m["threads"]) for m in a.summary["members"]] == [(1, 1)] * 3
    # Networks 0 and 1 were trained alone, as in one process: the same to the bit. Network 2
    # took the same steps: data parallel, or with two threads, its losses after every epoch
    # agree to float32 rounding.
    for h1, h2 in zip(a.history, b.history, strict=True):
        assert h1["member"] == h2["member"]
        if h1["member"] < 2:
            assert h1["train_loss"] == h2["train_loss"]
        else:
            assert h2["train_loss"] == pytest.approx(h1["train_loss"], rel=1e-5)
            assert h2["val_loss"] == pytest.approx(h1["val_loss"], rel=1e-5)
    assert len({h["member"] for h in b.history}) == 3
    for name, weights in a.weights.items():
        np.testing.assert_allclose(b.weights[name], weights, rtol=1e-3, atol=1e-5)
    # The model written by rank 0 is a whole model: predict and info read it.
    predicted = invoke(["predict", "-m", str(two), "--format", "json"])
    assert predicted.exit_code == 0, predicted.stderr
    assert len(json.loads(predicted.stdout)) == 3 * 12
    shown = invoke(["info", str(two)])
    assert shown.exit_code == 0 and "x 2 processes" in shown.stdout
    third = [line for line in shown.stdout.splitlines() if "network 3" in line]
    expected = "data parallel on 2 processes" if split == "data parallel" else "2 thread(s)"
    assert len(third) == 1 and expected in third[0], shown.stdout
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_rank_that_fails_ends_every_rank_and_writes_nothing(data: Path, tmp_path: Path) -> None:
    """Rank 1 raises at its third validation check; rank 0 is still training."""
    model = tmp_path / "model.fcst"
    model.write_bytes(b"the previous model")
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.get('RANK') == '1':\n"
        "    import forecaster.train as t\n"
        "    real, calls = t.evaluate_loss, [0]\n"
        "    def failing(*a, **k):\n"
        "        calls[0] += 1\n"
        "        if calls[0] == 3:\n"
        "            raise RuntimeError('injected failure')\n"
        "        return real(*a, **k)\n"
        "    t.evaluate_loss = failing\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{inject}{os.pathsep}{ROOT}"}
    args = ["train", str(data), "-o", str(model), "--nproc", "2", *SMALL, "--epochs", "40"]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "forecaster", *args], capture_output=True,
                            env=env, timeout=120)  # fmt: skip
    assert time.perf_counter() - started < 60
    assert result.returncode != 0
    lines = result.stderr.decode().strip().splitlines()
    assert lines == [
        "forecaster: rank 1: unexpected error: RuntimeError: injected failure "
        "(run with --debug for the traceback)"
    ]
    assert model.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inject", "model.fcst"]


def test_ctrl_c_ends_every_rank_with_130(data: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.fcst"
    model.write_bytes(b"the previous model")
    # A file says when rank 0 is training (its first validation check), so that the test
    # waits no longer than that.
    inject = tmp_path.parent / f"{tmp_path.name}-inject"
    inject.mkdir()
    training = inject / "training"
    (inject / "sitecustomize.py").write_text(
        "import os\n"
        "if os.environ.get('RANK') == '0':\n"
        "    import forecaster.train as t\n"
        "    real = t.evaluate_loss\n"
        "    def marking(*a, **k):\n"
        f"        open({str(training)!r}, 'a').close()\n"
        "        return real(*a, **k)\n"
        "    t.evaluate_loss = marking\n"
    )
    args = ["train", str(data), "-o", str(model), "--nproc", "2", *SMALL, "--epochs", "500"]
    process = subprocess.Popen(
        [sys.executable, "-m", "forecaster", *args],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": f"{inject}{os.pathsep}{ROOT}"},
        start_new_session=True,
    )
    deadline = time.perf_counter() + 60
    while not training.exists() and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert training.exists() and process.poll() is None  # the ranks are up and training
    os.killpg(process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert stderr.decode().strip().splitlines() == ["forecaster: interrupted"]
    assert model.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.fcst"]
    with pytest.raises(ProcessLookupError):  # no rank left behind in the session
        os.killpg(process.pid, 0)


def test_an_agreed_failure_leaves_the_process_group_before_it_ends_the_rank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every rank raises the agreed error after the same gather, so each leaves the group
    there: a rank that exited with it alive was aborted by gloo's threads in 9 of 25 runs
    of the bad-data command below (SIGABRT, exit 1 and three lines instead of 3 and one)."""
    events: list[str] = []

    def gathered(values: list, value: object) -> None:
        values[:] = [value, (3, "forecaster: error: bad data")]
        events.append("gather")

    monkeypatch.setattr(distributed.dist, "all_gather_object", gathered)
    monkeypatch.setattr(distributed, "stop", lambda: events.append("stop"))
    with pytest.raises(distributed.AgreedFailure) as raised, World(rank=0, size=2).agreed():
        pass
    assert raised.value.exit_code == 3 and raised.value.report
    assert events == ["gather", "stop"]

    def nobody_failed(values: list, value: object) -> None:
        values[:] = [None, None]

    events.clear()
    monkeypatch.setattr(distributed.dist, "all_gather_object", nobody_failed)
    with World(rank=0, size=2).agreed():  # no rank failed: the group stays for training
        pass
    assert events == []


def test_bad_data_is_said_once_not_once_per_rank(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ds,y\n2020-01-01,1\n2020-01-02,x\n2020-01-03,2\n")
    result = run_forecaster(["train", str(bad), "-o", str(tmp_path / "m.fcst"), "--nproc", "2"])
    assert result.returncode == 3, result.stderr.decode()
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forecaster: error: "), lines
    assert not (tmp_path / "m.fcst").exists()


def test_processes_cannot_share_standard_input(tmp_path: Path) -> None:
    result = invoke(["train", "-", "-o", str(tmp_path / "m.fcst"), "--nproc", "2"], input="ds,y\n")
    assert result.exit_code == 2
    assert "cannot share standard input" in result.stderr


@given(members=st.integers(1, 9), size=st.integers(1, 6))
def test_every_network_is_trained_once(members: int, size: int) -> None:
    shares = [share_networks(members, World(rank, size)) for rank in range(size)]
    alone = sorted(k for share in shares for k in share.alone)
    together = shares[0].together
    assert all(share.together == together for share in shares)  # every rank, same order
    assert sorted(alone + together) == list(range(members))
    assert len(together) < size  # whole networks while every rank can have one
    assert len({share.phases for share in shares}) == 1  # the ranks meet at the same time


@given(members=st.integers(1, 9), size=st.integers(1, 6))
def test_pooled_leftovers_take_the_idle_ranks_threads(members: int, size: int) -> None:
    """On one machine's CPU the networks left after the round-robin go whole to the first
    ranks, and every rank's threads serve exactly one of them."""
    shares = [share_networks(members, World(rank, size), pooled=True) for rank in range(size)]
    assert sorted(k for share in shares for k in share.whole) == list(range(members))
    assert not any(share.together for share in shares)
    assert all(len(share.pooled) <= 1 for share in shares)
    assert len({share.phases for share in shares}) == 1  # --max-time: the same rounds
    if members % size:
        assert sum(share.pool for share in shares if share.pooled) == size
    placed = placements(members, size, pooled=True)
    assert sum(pool for _, pool in placed[members - members % size :]) in (0, size)


def test_placements_say_where_each_network_was_trained() -> None:
    assert placements(3, 2, pooled=True) == [(1, 1), (1, 1), (1, 2)]
    assert placements(3, 2, pooled=False) == [(1, 1), (1, 1), (2, 1)]
    assert placements(5, 4, pooled=True) == [(1, 1)] * 4 + [(1, 4)]
    assert placements(1, 3, pooled=True) == [(1, 3)]
    assert placements(3, 1, pooled=True) == [(1, 1)] * 3


@given(batch=st.integers(1, 70), size=st.integers(1, 5))
def test_batch_shares_weight_to_the_whole_batch_mean(batch: int, size: int) -> None:
    """Averaging the ranks' weighted mean losses gives the whole batch's mean loss."""
    order = torch.arange(batch)
    losses = torch.linspace(0.5, 3.0, batch)
    seen, averaged = [], 0.0
    for rank in range(size):
        share, weight = batch_share(order, World(rank, size))
        if weight:
            seen.extend(share.tolist())
        averaged += float(losses[share].mean()) * weight / size
    assert sorted(seen) == list(range(batch))
    assert averaged == pytest.approx(float(losses.mean()), rel=1e-6)


def test_nproc_below_one_is_a_usage_error(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    long_frame().to_csv(data, index=False)
    result = invoke(["train", str(data), "-o", str(tmp_path / "m.fcst"), "--nproc", "0"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--nproc" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "m.fcst").exists()


@pytest.mark.parametrize(
    ("nproc", "threads", "cores", "advice"),
    [(2, 1, 2, None), (2, 2, 2, "--threads 1"), (4, 1, 2, "--nproc 2"), (2, 4, 8, None)],
)
def test_more_threads_than_cores_is_said(
    nproc: int, threads: int, cores: int, advice: str | None
) -> None:
    said = oversubscription(nproc, threads, cores)
    assert (said is None) == (advice is None)
    if advice is not None:
        assert said is not None and advice in said and f"on {cores} core(s)" in said


def test_train_warns_before_launching_too_many_threads(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warning comes from the launching process, once; the launch itself is stubbed."""
    launched: list[int] = []
    monkeypatch.setattr(launch, "launch", lambda n, argv: launched.append(n) or 0)
    cores = usable_cores()
    args = ["train", str(data), "-o", str(tmp_path / "m.fcst"), "--nproc", "2"]
    result = invoke([*args, "--threads", str(cores)])
    assert result.exit_code == 0 and launched == [2]
    assert result.stderr.count(f"= {2 * cores} threads on {cores} core(s)") == 1
    if cores >= 2:
        assert "slow each other" not in invoke([*args, "--threads", "1"]).stderr
