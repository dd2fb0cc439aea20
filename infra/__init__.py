"""Deployment tooling: the CloudFormation template of a stage, packaging, `kfps deploy` / `kfps destroy`.

Runs on the operator's machine only; `chalice package` ships `app.py`, `chalicelib/` and `vendor/`, never this
package, so nothing here adds to the Lambda package or its cold start.
"""
