"""The principal a request acts as, and what its namespaces let it read and write.

KFP's namespaces: experiments, runs and recurring runs belong to one; pipelines either to one or to none
(namespace "": shared). A principal reads and writes the namespaces it holds; everyone authenticated reads the
shared pipelines, only an admin writes them; an admin reads and writes everything.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

Source = Literal["token", "oidc", "open", "anonymous"]
SHARED_NAMESPACE = ""


@dataclasses.dataclass(frozen=True)
class Principal:
    subject: str
    namespaces: frozenset[str]
    admin: bool
    source: Source

    @property
    def unrestricted(self) -> bool:
        """True for an admin and for the open single-user mode: no namespace check applies."""
        return self.admin or self.source == "open"

    def may_read(self, namespace: str, shared: bool = False) -> bool:
        """May read objects of `namespace`; with `shared`, the namespace "" means the shared pipelines."""
        if self.unrestricted or namespace in self.namespaces:
            return True
        return shared and namespace == SHARED_NAMESPACE

    def may_write(self, namespace: str) -> bool:
        return self.unrestricted or (namespace != SHARED_NAMESPACE and namespace in self.namespaces)

    def default_namespace(self) -> str:
        """The namespace a request that names none acts in: the only one the principal holds, else ""."""
        if not self.unrestricted and len(self.namespaces) == 1:
            return next(iter(self.namespaces))
        return SHARED_NAMESPACE


OPEN_PRINCIPAL = Principal(subject="open", namespaces=frozenset(), admin=True, source="open")
# Who serves the public routes in multi-user mode (healthz, the dashboard's static files): no namespace at all.
ANONYMOUS = Principal(subject="anonymous", namespaces=frozenset(), admin=False, source="anonymous")
