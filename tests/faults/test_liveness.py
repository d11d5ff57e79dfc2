"""Liveness that a PID namespace cannot fool: a writer in a container-like PID namespace on the same host and file
system is alive for as long as it holds its run's lock, whatever its pid means to the reader."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

from runcard import get_run, list_runs
from runcard.store import open_store
from tests.faults.conftest import Place, unavailable

#: Logs for a few seconds from inside the namespace, where its pid is 1 or 2: meaningless to the host.
WRITER = """
import json, os, sys, time, runcard
url = sys.argv[1]
with runcard.start_run(project="ns", name="inside", store=url, batch_size=5, heartbeat_interval=60) as run:
    print(json.dumps({"id": run.id, "pid": os.getpid()}), flush=True)
    for step in range(70):
        run.log_metric("x", float(step), step=step)
        time.sleep(0.1)
print("done", flush=True)
"""


def test_a_writer_in_another_pid_namespace_is_never_judged_crashed(place: Place) -> None:
    if shutil.which("unshare") is None:
        unavailable("unshare(1) is not installed")
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, text=True,
                           check=False)
    if probe.returncode != 0:
        unavailable(f"cannot make a PID namespace: {probe.stderr.strip()}")
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", WRITER, place.url],
                            env=place.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    started = json.loads(proc.stdout.readline())
    assert started["pid"] < 10  # inside its namespace: the pid the store records means nothing on the host
    store = open_store(place.url)
    seen = []
    while proc.poll() is None:  # a reader on the host keeps looking, as `runcard runs` in another shell would
        seen.append(get_run(started["id"], store).status)
        list_runs("ns", store)
        time.sleep(0.2)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    # running until it finished (the last polls may see it finished before the process exits): never crashed
    assert seen and seen[0] == "running" and set(seen) <= {"running", "finished"}, seen
    assert "running" not in seen[seen.index("finished"):] if "finished" in seen else True, seen
    run = get_run(started["id"], store)
    assert run.status == "finished"
    assert run.history("x") == [(s, float(s)) for s in range(70)]  # nothing replayed twice, nothing lost
