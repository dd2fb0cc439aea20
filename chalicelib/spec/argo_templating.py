"""Argo's `{{...}}` variables: finding them, substituting them, and naming the ones left unresolved.

A tag is `{{` + a key + `}}`; surrounding spaces in the key are ignored (`{{ inputs.parameters.x }}`), as in
Argo's fasttemplate. Substitution is plain text replacement of the tag by the value (Argo substitutes the
template's JSON text); keys without a value are left as they are, and `unresolved` lists the keys Argo itself
would have resolved (`inputs.`, `outputs.`, `tasks.`, `steps.`, `workflow.`, `item`, ...), so that a reference
nobody can satisfy becomes a clear error instead of a literal `{{...}}` in a command line. Other tags
(`{{$.inputs...}}` from V2-compatible components, or a user's own braces) are not Argo's and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
ARGO_PREFIXES = ("inputs.", "outputs.", "tasks.", "steps.", "workflow.", "item.", "pod.", "node.")
ARGO_KEYS = frozenset({"item", "retries"})
# Filled at launch by the executor, which names the pod (or process) of the attempt.
LATE_BOUND_KEYS = frozenset({"pod.name"})


def tag_keys(text: str) -> Iterator[str]:
    """The keys of every tag in `text`, stripped of surrounding spaces, in order."""
    for match in TAG.finditer(text):
        yield match.group(1).strip()


def is_argo_key(key: str) -> bool:
    """True for keys in Argo's own namespaces (an unresolved one of these is an error)."""
    return key in ARGO_KEYS or key.startswith(ARGO_PREFIXES)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """`text` with every tag whose key is in `values` replaced by its value; other tags kept as written."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        value = values.get(key)
        return match.group(0) if value is None else value

    return TAG.sub(replace, text)


def substitute_deep(value: Any, values: Mapping[str, str]) -> Any:
    """A copy of a JSON value with `substitute` applied to every string in it (mapping keys included)."""
    return map_strings(value, lambda text: substitute(text, values))


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A copy of a JSON value with `change` applied to every string (mapping keys included)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(key): map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    return value


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a JSON value (mapping keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def unresolved(value: Any, allowed: frozenset[str] = LATE_BOUND_KEYS) -> list[str]:
    """The Argo keys still present as tags anywhere in a JSON value (sorted, without duplicates), except
    `allowed` ones."""
    found = {
        key for text in strings_in(value) for key in tag_keys(text) if is_argo_key(key) and key not in allowed
    }
    return sorted(found)
