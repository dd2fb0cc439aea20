"""`kfp.Client().list_runs(page_size=20)` over many runs in one namespace: the index-served list (a page read
from the store's run index) against today's in-memory path (every run of the namespace read, filtered,
sorted and sliced) on the same data, for both stores.

    python bench/list_runs_bench.py [--runs 100000] [--dynamo-runs 20000] [--stores embedded,dynamodb]

Runs are written straight into the stack's store (final states; the stack runs without its reconciler) by a
few threads of `create_run`; the embedded store's directory is on /dev/shm, as commits fsync. Per query and page: the latency of the `kfp.Client` call (HTTP, the API, the store)
and the runs the store read for it (counted at the store's `page_runs`/`list_runs`). Page 10 is reached by
following the tokens. Today's path is the route's former code (`list_runs` + `paginate`) in this process, its
bound lifted, on the same store, given the same page tokens. No asserts: figures, side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chalicelib.api import listing  # noqa: E402
from chalicelib.api.listing import RUN_FIELDS, paginate, parse_list_query  # noqa: E402
from chalicelib.api.run_pages import RunScope  # noqa: E402
from chalicelib.api.runs import run_to_api  # noqa: E402
from chalicelib.store.records import Run  # noqa: E402

NAMESPACE = "bench"
WRITERS = 8
PAGES = 10
STATE_FILTER = json.dumps({"predicates": [{"key": "state", "operation": "EQUALS", "stringValue": "FAILED"}]})
QUERIES = {  # name → kfp.Client.list_runs arguments besides namespace and page_size
    "default sort": {},
    "state=FAILED, newest first": {"sort_by": "created_at desc", "filter": STATE_FILTER},
}


class ReadCounter:
    """Counts the runs the store reads for list calls: wraps the run store's `page_runs` and `list_runs`."""

    def __init__(self, runs: Any) -> None:
        self.count = 0
        self._lock = threading.Lock()
        page_runs, list_runs = runs.page_runs, runs.list_runs

        def counted_page(listing_: Any) -> Any:
            page = page_runs(listing_)
            self._add(len(page.runs) + (1 if page.more else 0))  # the store reads one past the page
            return page

        def counted_list(*args: Any) -> Iterator[Run]:
            for run in list_runs(*args):
                self._add(1)
                yield run

        runs.page_runs, runs.list_runs = counted_page, counted_list

    def _add(self, n: int) -> None:
        with self._lock:
            self.count += n

    def take(self) -> int:
        with self._lock:
            count, self.count = self.count, 0
        return count


def write_runs(runs_store: Any, total: int) -> float:
    """`total` final runs in NAMESPACE, one a millisecond apart, every 4th FAILED; returns the seconds taken."""

    def one(n: int) -> None:
        seconds, millis = divmod(n, 1000)
        minutes, seconds = divmod(seconds, 60)
        hours, minutes = divmod(minutes, 60)
        created = (
            f"2026-03-{1 + hours // 24:02d}T{hours % 24:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}000Z"
        )
        run_id = f"run-{n:07d}"
        runs_store.create_run(
            Run(
                run_id,
                f"run {n}",
                "bench-experiment",
                NAMESPACE,
                f"runs/{run_id}/spec.json",
                created,
                state="FAILED" if n % 4 == 0 else "SUCCEEDED",
                finished_at=created,
            )
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(WRITERS) as pool:
        for _ in pool.map(one, range(total), chunksize=256):
            pass
    return time.perf_counter() - started


def timed(call: Callable[[], Any], counter: ReadCounter) -> tuple[Any, float, int]:
    counter.take()
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started, counter.take()


def indexed_pages(
    client: Any, counter: ReadCounter, arguments: dict[str, str]
) -> list[tuple[float, int, str]]:
    """Pages 1..PAGES through kfp.Client: (latency, runs read, the token that fetched the page)."""
    pages, token = [], ""
    for _ in range(PAGES):
        response, seconds, read = timed(
            lambda t=token: client.list_runs(namespace=NAMESPACE, page_size=20, page_token=t, **arguments),
            counter,
        )
        pages.append((seconds, read, token))
        token = response.next_page_token or ""
    return pages


def todays_page(runs_store: Any, arguments: dict[str, str], token: str) -> listing.Page:
    """The route before index pages: read the namespace's runs, then filter, sort and page in memory."""
    scope = RunScope(namespace=NAMESPACE)
    params = {"page_size": "20", "page_token": token, **arguments}
    query = parse_list_query(params, RUN_FIELDS, scope.token_scope)
    visible = (run_to_api(run) for run in runs_store.list_runs(NAMESPACE) if not run.delete_requested)
    return paginate(visible, query)


def bench_store(store: str, total: int, data_dir: Path) -> list[tuple[str, str, str, float, int]]:
    from chalicelib.local.stack import LocalStack, StackOptions

    os.environ["HOME"] = str(data_dir / "home")  # kfp.Client writes ~/.config/kfp/context.json
    options = StackOptions(port=0, data_dir=data_dir / "stack", store=store, reconcile=False)
    rows = []
    with contextlib.redirect_stderr(io.StringIO()), LocalStack(options) as stack:
        import kfp

        runs_store = stack.runtime.store.runs
        seconds = write_runs(runs_store, total)
        print(f"{store}: wrote {total} runs in {seconds:.1f} s ({total / seconds:.0f} runs/s)", flush=True)
        counter = ReadCounter(runs_store)
        client = kfp.Client(host=stack.url)
        listing.MAX_IN_MEMORY_ITEMS = 10 * total  # today's path had no bound
        for name, arguments in QUERIES.items():
            pages = indexed_pages(client, counter, arguments)
            for number in (1, PAGES):
                latency, read, token = pages[number - 1]
                rows.append((store, name, f"page {number}", latency, read))
                _, old_latency, old_read = timed(
                    lambda t=token, a=arguments: todays_page(runs_store, a, t), counter
                )
                rows.append((store, name, f"page {number} (today)", old_latency, old_read))
            middle = statistics.median(latency for latency, _, _ in pages)
            print(f"{store}: {name}: median over {PAGES} index pages {middle * 1000:.1f} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the namespace (embedded store)")
    parser.add_argument(
        "--dynamo-runs", type=int, default=20_000, help="runs in the namespace (DynamoDB, moto)"
    )
    parser.add_argument("--stores", default="embedded,dynamodb")
    args = parser.parse_args()
    stores = args.stores.split(",")
    if len(stores) > 1:  # one stack per process (the Chalice local server binds its app class once)
        for store in stores:
            subprocess.run([sys.executable, __file__, *sys.argv[1:], "--stores", store], check=True)
        return
    (store,) = stores
    total = args.dynamo_runs if store == "dynamodb" else args.runs
    # The embedded store fsyncs every commit: its data goes to /dev/shm (when there is one) so that writing the
    # runs takes seconds, not minutes; the list calls read through SQLite's page cache either way.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="kfps-list-bench-", dir=shm if shm.is_dir() else None) as tmp:
        rows = bench_store(store, total, Path(tmp))
    print(f"\n{'store':<10} {'query':<28} {'page':<16} {'latency ms':>11} {'runs read':>10}")
    for store, name, page, latency, read in rows:
        print(f"{store:<10} {name:<28} {page:<16} {latency * 1000:>11.1f} {read:>10}")


if __name__ == "__main__":
    main()
