"""`kfps up` on its default (embedded) store under load: 8 clients at once create experiments and pipelines
(from shared pools of names, so they collide) and runs, and list as they go — a few thousand requests. No
request may fail with a 5xx; every acknowledged object is listed afterwards; names stay unique."""

import collections
import io
import signal
import threading
from pathlib import Path

import requests
import yaml
from kfp import compiler, dsl

from tests.local.kfps_process import KfpsUp

CLIENTS = 8
EXPERIMENTS_PER_CLIENT = 100
PIPELINES_PER_CLIENT = 40
RUNS_PER_CLIENT = 100
NAME_POOL = 120  # fewer names than creates: clients collide on every name


@dsl.component
def never_runs() -> str:
    return "skipped"


@dsl.pipeline(name="load-skip")
def skip_only(flag: bool = False):
    """Its one task is skipped by its condition: runs finish without starting a process."""
    with dsl.If(flag == True):  # noqa: E712 - a KFP condition, not a Python comparison
        never_runs()


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.server_errors: list[str] = []
        self.unexpected: list[str] = []
        self.failures: list[str] = []  # requests that got no response at all
        self.experiments: dict[str, str] = {}
        self.pipelines: dict[str, str] = {}
        self.runs: set[str] = set()

    def record(self, response: requests.Response, what: str, expected: tuple[int, ...] = (200,)) -> bool:
        """Count the response; note it when it is a 5xx or not one of `expected`. True for a 200."""
        with self.lock:
            self.statuses[response.status_code] += 1
            line = f"{what}: {response.status_code} {response.text[:200]}"
            if response.status_code >= 500:
                self.server_errors.append(line)
            elif response.status_code not in expected:
                self.unexpected.append(line)
        return response.status_code == 200


def test_eight_clients_at_once_get_no_server_error_and_lose_nothing(tmp_path: Path):
    package_path = tmp_path / "skip.yaml"
    compiler.Compiler().compile(skip_only, str(package_path))
    package = package_path.read_bytes()
    spec = yaml.safe_load(package)
    stack = KfpsUp(tmp_path / "data").start()
    tally = Tally()
    api = f"{stack.url}/apis/v2beta1"

    def client(number: int) -> None:
        session = requests.Session()
        mine: list[str] = []
        for index in range(max(EXPERIMENTS_PER_CLIENT, PIPELINES_PER_CLIENT, RUNS_PER_CLIENT)):
            name = f"shared-{(index * 7 + number * 13) % NAME_POOL}"
            if index < EXPERIMENTS_PER_CLIENT:
                response = session.post(f"{api}/experiments", json={"display_name": name})
                if tally.record(response, "create experiment", (200, 409)):
                    with tally.lock:
                        tally.experiments[response.json()["experiment_id"]] = name
                    mine.append(response.json()["experiment_id"])
            if index < PIPELINES_PER_CLIENT:
                files = {"uploadfile": (f"{name}.yaml", io.BytesIO(package))}
                response = session.post(f"{api}/pipelines/upload", params={"name": name}, files=files)
                if tally.record(response, "upload pipeline", (200, 409)):
                    with tally.lock:
                        tally.pipelines[response.json()["pipeline_id"]] = name
            if index < RUNS_PER_CLIENT:
                body = {"display_name": f"load-{number}-{index}", "pipeline_spec": spec}
                if mine:
                    body["experiment_id"] = mine[index % len(mine)]
                response = session.post(f"{api}/runs", json=body)
                if tally.record(response, "create run"):
                    with tally.lock:
                        tally.runs.add(response.json()["run_id"])
            if index % 10 == 0:
                tally.record(session.get(f"{api}/experiments", params={"page_size": 20}), "list experiments")
                tally.record(session.get(f"{api}/runs", params={"page_size": 20}), "list runs")

    def guarded(number: int) -> None:
        try:
            client(number)
        except requests.RequestException as exc:
            with tally.lock:
                tally.failures.append(f"client {number}: {exc!r}")

    threads = [threading.Thread(target=guarded, args=(number,)) for number in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert not tally.failures, (tally.failures[:3], stack.errors_logged())
        assert not tally.server_errors, (tally.server_errors[:5], stack.errors_logged())
        assert not tally.unexpected, tally.unexpected[:5]
        assert sum(tally.statuses.values()) > 2000, tally.statuses

        experiments = _listed(stack, "/experiments", "experiments", "experiment_id", "display_name")
        assert set(tally.experiments) <= set(experiments)
        shared = [name for name in experiments.values() if name.startswith("shared-")]
        assert len(shared) == len(set(shared)) == len(tally.experiments)

        pipelines = _listed(stack, "/pipelines", "pipelines", "pipeline_id", "name")
        assert set(tally.pipelines) <= set(pipelines)
        assert len(pipelines) == len(set(pipelines.values())) == len(tally.pipelines)

        runs = _listed(stack, "/runs", "runs", "run_id", "display_name")
        assert tally.runs <= set(runs)
    finally:
        stack.signal_process(signal.SIGTERM)
        assert stack.wait(timeout=60) == 0


def _listed(stack: KfpsUp, path: str, key: str, id_key: str, name_key: str) -> dict[str, str]:
    """Every item of a list endpoint (all pages): id → name."""
    found: dict[str, str] = {}
    token = ""
    while True:
        query = f"{path}?page_size=200" + (f"&page_token={token}" if token else "")
        page = stack.get(query)
        found.update({item[id_key]: item[name_key] for item in page.get(key, [])})
        token = page.get("next_page_token", "")
        if not token:
            return found
