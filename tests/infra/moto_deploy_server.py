"""The moto server the deployment tests deploy into, run as its own process (so IAM enforcement, switched on
through `/moto-api/reset-auth`, touches no other moto server of the test session).

    python tests/infra/moto_deploy_server.py PORT

One gap is closed so the stack Chalice generates can be created: moto's CloudFormation ignores a
`AWS::ApiGateway::RestApi` `Body` (the Swagger 2.0 document Chalice writes, which API Gateway imports; moto's
own import takes OpenAPI 3 only), so its Deployment fails with "The REST API doesn't contain any methods".
Here the document's paths become resources, methods and their Lambda proxy integrations, as API Gateway's
import makes them.
- moto's `ExecuteChangeSet` creates the resources but never evaluates the template's Outputs (its
`CreateStack` and `UpdateStack` do): here the outputs are evaluated after the change set is applied.
- moto's `AWS::Lambda::LayerVersion` has no physical id, and its `AWS::Lambda::Function` ignores `Layers`:
here `Ref` to a layer version is its ARN, as in CloudFormation, and the functions get their layers.
"""

from __future__ import annotations

import sys
from typing import Any


def _import_rest_api_body() -> None:
    from moto.apigateway import models

    original = models.RestAPI.create_from_cloudformation_json.__func__

    def create_with_body(
        cls: type,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        api = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        body = cloudformation_json["Properties"].get("Body") or {}
        backend = models.apigateway_backends[account_id][region_name]
        for path, operations in body.get("paths", {}).items():
            resource = api.default
            for part in [p for p in path.split("/") if p]:
                existing = [
                    r for r in api.resources.values() if r.parent_id == resource.id and r.path_part == part
                ]
                resource = existing[0] if existing else backend.create_resource(api.id, resource.id, part)
            for method, operation in operations.items():
                if method.startswith("x-amazon"):
                    continue
                integration = operation.get("x-amazon-apigateway-integration", {})
                backend.put_method(api.id, resource.id, method.upper(), authorization_type="NONE")
                backend.put_integration(
                    api.id,
                    resource.id,
                    method.upper(),
                    integration_type=integration.get("type", "aws_proxy").upper(),
                    uri=integration.get("uri", ""),
                    integration_method=integration.get("httpMethod", "POST"),
                )
        return api

    models.RestAPI.create_from_cloudformation_json = classmethod(create_with_body)


def _outputs_after_change_sets() -> None:
    from moto.cloudformation import models

    original = models.ChangeSet.apply

    def apply_then_outputs(self: Any) -> None:
        original(self)
        self.stack.template_dict = self.template_dict
        self.stack.output_map = self.stack._create_output_map()

    models.ChangeSet.apply = apply_then_outputs


def _function_layers() -> None:
    from moto.awslambda import models

    models.LayerVersion.physical_resource_id = property(lambda self: self.arn)
    original = models.LambdaFunction.create_from_cloudformation_json.__func__

    def create_with_layers(
        cls: type, resource_name: str, cloudformation_json: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        function = original(cls, resource_name, cloudformation_json, *args, **kwargs)
        function.layers = function._get_layers_data(cloudformation_json["Properties"].get("Layers", []))
        return function

    models.LambdaFunction.create_from_cloudformation_json = classmethod(create_with_layers)


def main() -> None:
    _import_rest_api_body()
    _outputs_after_change_sets()
    _function_layers()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", sys.argv[1]])


if __name__ == "__main__":
    main()
