"""The engine for KFP v1 runs: Argo Workflow semantics over the same records and decisions as the IR engine.

`plan` (planner.py) decides one reconcile step, `finish_attempt` (attempts.py) applies an attempt's outcome
with the template's `retryStrategy`, `retry_run` (retries.py) reopens a failed run. Pure like the rest of the
engine: it reads the workflow through `chalicelib.spec.argo_workflow` and does no I/O.
"""
