"""Control-plane cost of one run in the cloud configuration, and of the idle tick.

A 10-step chain whose steps each run 60 s (and the same with 1 s steps: Lambda time must not depend on how long
steps run) goes through the app's real handlers in the cloud configuration of `tests/support/cloud_config.py`:
DynamoDB and S3 on moto, S3 → EventBridge → the app's own result rule, the Kubernetes executor against the fake
API server with simulated step pods (simulated time: nobody waits 10 minutes), the one-minute tick every
simulated minute. Every AWS call the handlers make is counted with botocore event hooks (`before-call` /
`after-call`, registered on every client as it is created, pynamodb's too); handler durations are measured.

Units and prices (AWS public list prices, us-east-1, as of 2026-12-01):
- Lambda: $0.20 per 1M requests + $0.0000166667 per GB-second (x86); GB-s = measured duration × configured
  memory (`.chalice/config.json`).
- DynamoDB on demand: $0.625 per 1M write request units, $0.125 per 1M read request units. Units are computed
  from the bytes on the wire (the JSON item is larger than DynamoDB's size, so this over-counts): a write is
  ceil(item KB) WRU, doubled in a transaction, plus the same again for every global index of the table (an
  upper bound: sparse indexes are not always written); a read is ceil(bytes / 4 KB) RRU, halved when eventually
  consistent. moto's own ConsumedCapacity is a constant, so it is not used.
- S3: $0.005 per 1k PUT/COPY/POST/LIST, $0.0004 per 1k GET and other requests.
- EventBridge: $1.00 per 1M events (the S3 result events and the tick's schedule; AWS service events may be
  free, so this is an upper bound). EventBridge Scheduler: $1.00 per 1M invocations (none for a one-off run).
- API Gateway REST: $3.50 per 1M requests (the run's create call).

Measured durations are in-process against moto on loopback; real AWS calls take longer. The "cloud latency"
column adds LATENCY_PER_CALL_MS for every AWS and Kubernetes API call a handler made, to bound that. Cold
starts are not included (see bench/deployment.py for cold import times).

    .venv/bin/python bench/cost_per_run.py [--steps 10] [--seconds 60 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

PRICES_AS_OF = "2026-12-01"
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_SECOND = 0.0000166667
DYNAMODB_PER_WRU = 0.625 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6
S3_PER_WRITE = 0.005 / 1e3
S3_PER_READ = 0.0004 / 1e3
EVENTBRIDGE_PER_EVENT = 1.00 / 1e6
SCHEDULER_PER_INVOCATION = 1.00 / 1e6
API_GATEWAY_PER_REQUEST = 3.50 / 1e6
TICKS_PER_MONTH = 43_200  # one a minute, 30 days
LATENCY_PER_CALL_MS = 20.0
TARGET_PER_RUN = 0.001

S3_WRITES = frozenset(
    {"PutObject", "CopyObject", "PostObject", "ListObjects", "ListObjectsV2", "CreateMultipartUpload"}
)


@dataclasses.dataclass
class Usage:
    """What one group of handler invocations used."""

    invocations: int = 0
    seconds: float = 0.0
    gb_seconds: float = 0.0
    latency_gb_seconds: float = 0.0
    rru: float = 0.0
    wru: float = 0.0
    s3_reads: int = 0
    s3_writes: int = 0
    kube_calls: int = 0
    lambda_invokes: int = 0
    calls: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def add(self, other: Usage) -> None:
        for field in dataclasses.fields(self):
            if field.name == "calls":
                self.calls.update(other.calls)
            else:
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def cost(self, events: int = 0, api_requests: int = 0) -> dict[str, float]:
        return {
            "lambda": self.invocations * LAMBDA_PER_REQUEST + self.gb_seconds * LAMBDA_PER_GB_SECOND,
            "dynamodb": self.wru * DYNAMODB_PER_WRU + self.rru * DYNAMODB_PER_RRU,
            "s3": self.s3_writes * S3_PER_WRITE + self.s3_reads * S3_PER_READ,
            "eventbridge": events * EVENTBRIDGE_PER_EVENT,
            "api_gateway": api_requests * API_GATEWAY_PER_REQUEST,
        }


class CallCounter:
    """botocore hooks on every client: each call is charged to the handler invocation running (`current`)."""

    def __init__(self, gsi_counts: dict[str, int]) -> None:
        self.current: Usage | None = None
        self.table_prefix = ""
        self._gsi_counts = gsi_counts
        self._params: dict[str, Any] = {}
        self._request_bytes = 0

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", counter._parameters)
            client.meta.events.register("before-call", counter._before)
            client.meta.events.register("after-call", counter._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def _parameters(self, params: dict[str, Any], **_: Any) -> None:
        self._params = dict(params)

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b""
        self._request_bytes = len(body) if isinstance(body, (bytes, str)) else 0

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        usage = self.current
        if usage is None:
            return
        service, operation = model.service_model.service_name, model.name
        usage.calls[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            self._dynamodb(usage, operation, len(http_response.content or b""))
        elif service == "s3":
            if operation in S3_WRITES:
                usage.s3_writes += 1
            else:
                usage.s3_reads += 1
        elif service == "lambda" and operation == "Invoke":
            usage.lambda_invokes += 1

    def _indexes(self, table: str) -> int:
        return self._gsi_counts.get(table.removeprefix(self.table_prefix + "-"), 0)

    def _dynamodb(self, usage: Usage, operation: str, response_bytes: int) -> None:
        params, request = self._params, self._request_bytes
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            units = math.ceil(max(request, response_bytes) / 1024)
            usage.wru += units * (1 + self._indexes(params.get("TableName", "")))
        elif operation == "TransactWriteItems":
            for item in params.get("TransactItems", []):
                (action,) = item.values()
                size = len(json.dumps(action))
                usage.wru += 2 * math.ceil(size / 1024) * (1 + self._indexes(action.get("TableName", "")))
        elif operation in ("GetItem", "Query", "Scan"):
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            usage.rru += factor * max(1, math.ceil(response_bytes / 4096))
        elif operation == "BatchGetItem":
            keys = sum(len(table["Keys"]) for table in params.get("RequestItems", {}).values())
            usage.rru += 0.5 * max(keys, math.ceil(response_bytes / 4096))
        elif operation == "TransactGetItems":
            usage.rru += 2 * max(1, math.ceil(response_bytes / 4096))


def gsi_counts() -> dict[str, int]:
    """Global secondary indexes per table kind, from the models (each write may update each of them)."""
    from chalicelib.settings import AwsAccess
    from chalicelib.store.dynamo.tables import tables_for

    counts = {}
    for model in tables_for("kfps-count", AwsAccess()).models:
        kind = model.Meta.table_name.removeprefix("kfps-count-")
        counts[kind] = len(model._get_schema().get("global_secondary_indexes", []))
    return counts


@dataclasses.dataclass
class Measured:
    label: str
    state: str
    by_function: dict[str, Usage]
    result_events: int
    ticks: int

    @property
    def total(self) -> Usage:
        total = Usage()
        for usage in self.by_function.values():
            total.add(usage)
        return total

    def cost(self, with_ticks: bool = True) -> dict[str, float]:
        total = Usage()
        for function, usage in self.by_function.items():
            if with_ticks or function != "reconcile_tick":
                total.add(usage)
        events = self.result_events + (self.ticks if with_ticks else 0)
        return total.cost(
            events=events, api_requests=self.by_function.get("api_handler", Usage()).invocations
        )


class MeteredHarness:
    """A `CloudHarness` whose handler invocations are charged to per-function `Usage`s."""

    def __init__(self, harness: Any, counter: CallCounter) -> None:
        self.harness = harness
        self.counter = counter
        self.by_function: dict[str, Usage] = collections.defaultdict(Usage)
        self._invoke = harness.invoke
        self._call_api = harness.call_api
        harness.invoke = self._metered(harness.invoke)
        harness.call_api = self._metered_api(harness.call_api)

    def _run(self, function: str, call: Any) -> Any:
        usage = Usage()
        kube_before = len(self.harness.fake.requests)
        self.counter.current = usage
        started = time.perf_counter()
        try:
            return call()
        finally:
            seconds = time.perf_counter() - started
            self.counter.current = None
            usage.invocations = 1
            usage.seconds = seconds
            usage.kube_calls = len(self.harness.fake.requests) - kube_before
            memory_gb = self.harness.functions[function]["lambda_memory_size"] / 1024
            usage.gb_seconds = seconds * memory_gb
            calls = sum(usage.calls.values()) + usage.kube_calls
            usage.latency_gb_seconds = (seconds + calls * LATENCY_PER_CALL_MS / 1000) * memory_gb
            self.by_function[function].add(usage)

    def _metered(self, invoke: Any) -> Any:
        def metered(function: str, event: dict[str, Any], timeout_ms: int | None = None) -> Any:
            return self._run(function, lambda: invoke(function, event, timeout_ms))

        return metered

    def _metered_api(self, call_api: Any) -> Any:
        def metered(method: str, path: str, body: Any = None) -> Any:
            return self._run("api_handler", lambda: call_api(method, path, body))

        return metered

    def take(self) -> dict[str, Usage]:
        taken, self.by_function = dict(self.by_function), collections.defaultdict(Usage)
        return taken


def measure_run(metered: MeteredHarness, spec: dict[str, Any], seconds: int, label: str) -> Measured:
    from tests.support.cloud_config import create_run

    harness = metered.harness
    metered.take()
    events_before = harness.result_events
    ticks_before = sum(1 for i in harness.invocations if i.function == "reconcile_tick")
    run_id = create_run(harness, spec, seconds)
    state = harness.drive(run_id)
    ticks = sum(1 for i in harness.invocations if i.function == "reconcile_tick") - ticks_before
    return Measured(label, state, metered.take(), harness.result_events - events_before, ticks)


def measure_idle_tick(metered: MeteredHarness, ticks: int = 20) -> Usage:
    metered.take()
    for _ in range(ticks):
        assert metered.harness.tick() == {"active": 0, "kicked": 0}
    usage = metered.take()["reconcile_tick"]
    per_tick = Usage()
    for field in dataclasses.fields(Usage):
        if field.name != "calls":
            setattr(per_tick, field.name, getattr(usage, field.name) / ticks)
    per_tick.calls = collections.Counter({k: v // ticks for k, v in usage.calls.items()})
    return per_tick


def _median(measured: list[Measured]) -> Measured:
    """The run with the median Lambda time (calls are the same in every run; durations vary with load)."""
    ordered = sorted(measured, key=lambda m: m.total.seconds)
    return ordered[len(ordered) // 2]


def _money(value: float) -> str:
    return f"${value:.6f}"


def print_run(measured: Measured) -> None:
    print(
        f"\n== {measured.label}: {measured.state}, {measured.ticks} ticks during the run, "
        f"{measured.result_events} S3 result events"
    )
    header = f"{'function':<18}{'calls':>6}{'Lambda s':>10}{'GB-s':>9}{'GB-s@lat':>10}{'RRU':>8}{'WRU':>8}{'S3 r/w':>9}{'K8s':>6}"
    print(header)
    for function, usage in sorted(measured.by_function.items()):
        print(
            f"{function:<18}{usage.invocations:>6}{usage.seconds:>10.3f}{usage.gb_seconds:>9.3f}"
            f"{usage.latency_gb_seconds:>10.3f}{usage.rru:>8.1f}{usage.wru:>8.0f}"
            f"{f'{usage.s3_reads}/{usage.s3_writes}':>9}{usage.kube_calls:>6}"
        )
    total = measured.total
    print(
        f"{'total':<18}{total.invocations:>6}{total.seconds:>10.3f}{total.gb_seconds:>9.3f}"
        f"{total.latency_gb_seconds:>10.3f}{total.rru:>8.1f}{total.wru:>8.0f}"
        f"{f'{total.s3_reads}/{total.s3_writes}':>9}{total.kube_calls:>6}"
    )
    calls = ", ".join(f"{name} {count}" for name, count in total.calls.most_common())
    print(f"AWS calls: {calls}")
    for with_ticks in (False, True):
        cost = measured.cost(with_ticks)
        extra = (total.latency_gb_seconds - total.gb_seconds) * LAMBDA_PER_GB_SECOND
        parts = ", ".join(f"{name} {_money(value)}" for name, value in cost.items())
        label = "with the run's ticks" if with_ticks else "without ticks     "
        print(f"cost {label}: {_money(sum(cost.values()))} ({parts}); at cloud latency +{_money(extra)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seconds", type=int, nargs="+", default=[60, 1])
    parser.add_argument("--repeat", type=int, default=3, help="runs per step duration; the median is shown")
    args = parser.parse_args()

    from chalicelib.local.embedded_aws import EmbeddedAws
    from chalicelib.local.ports import free_port
    from chalicelib.settings import AwsAccess
    from tests.support.chain_pipeline import chain_pipeline
    from tests.support.cloud_config import cloud_harness

    port = free_port()
    server = EmbeddedAws("127.0.0.1", port).start()
    access = AwsAccess("us-east-1", f"http://127.0.0.1:{port}", "testing", "testing", "testing")
    spec = chain_pipeline(args.steps)
    # Hooked before any client exists (the harness's, the app's, pynamodb's).
    counter = CallCounter(gsi_counts())
    counter.install()
    try:
        with tempfile.TemporaryDirectory() as workdir, cloud_harness(access, Path(workdir)) as harness:
            counter.table_prefix = harness.settings.table_prefix
            metered = MeteredHarness(harness, counter)
            # A first run warms the process (imports, clients), as a warm Lambda would be; not reported.
            measure_run(metered, spec, 1, "warm-up")
            rounds: dict[int, list[Measured]] = {seconds: [] for seconds in args.seconds}
            for _ in range(args.repeat):  # interleaved, so load changes hit every step duration alike
                for seconds in args.seconds:
                    label = f"{args.steps} steps × {seconds} s"
                    rounds[seconds].append(measure_run(metered, spec, seconds, label))
            results = [_median(measured) for measured in rounds.values()]
            idle = measure_idle_tick(metered)
    finally:
        server.stop()
    print(f"prices: AWS list prices us-east-1 as of {PRICES_AS_OF} (see the module doc)")
    for measured in results:
        print_run(measured)
    lambda_seconds = [m.total.seconds - m.by_function.get("reconcile_tick", Usage()).seconds for m in results]
    print(
        "\nLambda seconds without ticks by step duration: "
        + ", ".join(f"{m.label}: {s:.3f}" for m, s in zip(results, lambda_seconds, strict=True))
    )
    idle_cost = idle.cost(events=1)
    per_tick = sum(idle_cost.values())
    print(
        f"idle tick: {dict(idle.calls)}, {idle.kube_calls:.0f} Kubernetes calls, {idle.seconds * 1000:.1f} ms; "
        f"{_money(per_tick)} per tick, {_money(per_tick * TICKS_PER_MONTH)} per month ({TICKS_PER_MONTH} ticks)"
    )
    worst = max(sum(m.cost(True).values()) for m in results)
    print(
        f"target ≤ {_money(TARGET_PER_RUN)} per run: worst {_money(worst)} ({worst / TARGET_PER_RUN:.2f}× target)"
    )


if __name__ == "__main__":
    main()
