"""HealthzService: `kfp.Client` calls it in its constructor and reads only `multi_user` (true when authentication and namespaces are on); `pipeline_store` says
which store the deployment runs on ("dynamodb" or "embedded")."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.request_helpers import handled

healthz = Blueprint(__name__)


@healthz.route("/apis/v2beta1/healthz", methods=["GET"])
@handled()
def get_healthz() -> dict:
    current = runtime.current()
    return {"multi_user": current.settings.multi_user, "pipeline_store": current.store.kind}
