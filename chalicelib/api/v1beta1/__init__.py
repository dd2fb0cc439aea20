"""The KFP v1beta1 API (what kfp 1.8's `kfp.Client` speaks), beside v2beta1 on the same services and store.

One blueprint per v1 service (`experiments`, `pipelines`, `runs`, `jobs`, `healthz`); what they share — the v1
shapes of our records, resource references, v1 list queries, errors, version lookups and the Argo Workflow view
of a run — lives in the other modules here, never in a blueprint.
"""
