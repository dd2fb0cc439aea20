"""What a taken unique name is called, the same in both store implementations (the API shows these as 409s)."""

from __future__ import annotations


def experiment_taken(display_name: str, namespace: str) -> str:
    return f"Experiment with name {display_name!r} already exists in namespace {namespace!r}"


def pipeline_taken(name: str, namespace: str) -> str:
    return f"Pipeline with name {name!r} already exists in namespace {namespace!r}"


def version_taken(name: str, pipeline_id: str) -> str:
    return f"Pipeline version with name {name!r} already exists in pipeline {pipeline_id}"
