"""The moto server the deployment tests deploy into, run as its own process (so IAM enforcement, switched on
through `/moto-api/reset-auth`, touches no other moto server of the test session).

    python tests/infra/moto_deploy_server.py PORT

Gaps closed so the stack Chalice generates can be created and used:
- moto's CloudFormation ignores a `AWS::ApiGateway::RestApi` `Body` (the Swagger 2.0 document Chalice writes,
which API Gateway imports; moto's own import takes OpenAPI 3 only), so its Deployment fails with "The REST API
doesn't contain any methods". Here the document's paths become resources, methods and their Lambda proxy
integrations, as API Gateway's import makes them.
- moto's `ExecuteChangeSet` creates the resources but never evaluates the template's Outputs (its
`CreateStack` and `UpdateStack` do): here the outputs are evaluated after the change set is applied.
- moto's `AWS::Lambda::LayerVersion` has no physical id, and its `AWS::Lambda::Function` ignores `Layers`:
here `Ref` to a layer version is its ARN, as in CloudFormation, and the functions get their layers.
- Lambda invokes answer without running the function (there is no Docker here), like moto's `use_docker`
off in process.
- moto's CloudFormation cannot create an `AWS::Scheduler::ScheduleGroup`: here it can (its scheduler can).
- moto's `AWS::IAM::Role` keeps its inline `Policies` as JSON objects where IAM keeps documents (strings), so
its own IAM enforcement fails on them: here they are stored as documents.

IAM enforcement (on while `/moto-api/reset-auth` is 0): moto checks S3 calls against the bucket/key ARN, but
every other service against the resource `*`, so a policy scoped to a table, function, schedule or cluster
refuses even the calls it allows. Here DynamoDB, Lambda, Scheduler and EKS requests are checked against the
resource they address, as IAM does, and DynamoDB transactions and batches item by item against the item
actions IAM checks them as (`TransactWriteItems` needs `PutItem`/`UpdateItem`/...). Request signatures are
not verified (moto recomputes them wrongly for requests with a query string); the access key still decides
who is calling. Still not enforced: `iam:PassRole` on Scheduler's target role (moto evaluates no condition keys), and presigned S3 requests (moto
can only authorize requests with an Authorization header: a presigned PUT is let through; the signer's
`s3:PutObject` is what the recorded-calls check proves).
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


def _lambda_without_docker() -> None:
    from moto.core.config import default_user_config

    default_user_config["lambda"]["use_docker"] = False


def _dynamodb_item_checks(operation: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(action, table, index) triples IAM checks for one DynamoDB request."""
    item_actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
    item_actions |= {"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
    if operation in ("TransactWriteItems", "TransactGetItems"):
        checks = []
        for item in body.get("TransactItems", []):
            ((kind, request),) = item.items()
            checks.append((item_actions[kind], request["TableName"], ""))
        return checks
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(operation, table, "") for table in body.get("RequestItems", {})]
    if "TableName" in body:
        return [(operation, body["TableName"], body.get("IndexName", ""))]
    return [(operation, "", "")]


def _role_policy_documents() -> None:
    import json

    from moto.iam import models

    original = models.Role.put_policy

    def put_document(self: Any, policy_name: str, policy_json: Any) -> None:
        original(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    models.Role.put_policy = put_document


def _schedule_groups() -> None:
    from moto.core.common_models import CloudFormationModel
    from moto.scheduler.models import scheduler_backends

    class ScheduleGroupResource(CloudFormationModel):
        __module__ = "moto.scheduler.cloudformation"  # moto files its models by service module

        def __init__(self, group: Any) -> None:
            self.group = group

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::ScheduleGroup"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.group.arn

        @property
        def physical_resource_id(self) -> str:
            return self.group.name

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls,
            resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
            **kwargs: Any,
        ) -> ScheduleGroupResource:
            properties = cloudformation_json.get("Properties", {})
            backend = scheduler_backends[account_id][region_name]
            return cls(
                backend.create_schedule_group(
                    properties.get("Name", resource_name), properties.get("Tags", [])
                )
            )

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[override]
            cls,
            original_resource: Any,
            new_resource_name: str,
            cloudformation_json: dict[str, Any],
            account_id: str,
            region_name: str,
        ) -> Any:
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            backend = scheduler_backends[account_id][region_name]
            if resource_name in backend.schedule_groups:
                backend.delete_schedule_group(resource_name)


def _resource_scoped_iam() -> None:
    import json

    from moto.awslambda.responses import LambdaResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.eks.responses import EKSResponse
    from moto.iam.access_control import IAMRequest, IAMRequestBase
    from moto.s3.responses import S3Response
    from moto.scheduler.responses import EventBridgeSchedulerResponse

    def json_body(self: Any) -> dict[str, Any]:
        # DynamoDB's handler has replaced its body by the parsed parameters already (a mapping)
        body = self.body
        return json.loads(body or "{}") if isinstance(body, (str, bytes)) else dict(body or {})

    from moto.core.authorization import ActionAuthenticatorMixin

    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def logged(self: Any, iam_request_cls: Any, resource: str = "*") -> None:
        try:
            checked(self, iam_request_cls, resource)
        except Exception as exc:
            print(f"IAM refused {self._get_action()} on {resource}: {exc}", file=sys.stderr, flush=True)
            raise

    ActionAuthenticatorMixin._authenticate_and_authorize_action = logged
    # moto recomputes a request's signature with its query parameters as the body, which breaks every
    # restJson GET/DELETE with a query string (Scheduler's GetSchedule/DeleteSchedule): who is calling is
    # still established from the access key (an unknown or expired one is refused); signatures are not
    # what this test is about.
    IAMRequestBase.check_signature = lambda self: None

    def authorize_as(self: Any, action: str, resource: str) -> None:
        """moto's check of `service:action` on `resource` (its own takes the operation name as the action)."""

        def request(checked: str = action, **kwargs: Any) -> IAMRequest:
            return IAMRequest(**{**kwargs, "action": checked})

        self._authenticate_and_authorize_action(request, resource)

    def authorize_items(self: Any, resource: str = "*") -> None:
        body = json_body(self)
        for action, table, index in _dynamodb_item_checks(self._get_action(), body):
            arn = f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}" if table else "*"
            authorize_as(self, action, arn + (f"/index/{index}" if index else ""))

    DynamoHandler._authenticate_and_authorize_normal_action = authorize_items

    def arn(self: Any, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.current_account}:{resource}"

    def uri_parameter(self: Any, name: str) -> str:
        self._get_action()  # matches the request to its operation, which fills `uri_match`
        return (self.uri_match or {}).get(name, "")

    def function_resource(self: Any) -> str:
        name = uri_parameter(self, "FunctionName")
        if not name:
            return "*"
        return name if name.startswith("arn:") else arn(self, "lambda", f"function:{name}")

    def schedule_resource(self: Any) -> str:
        name = uri_parameter(self, "Name")
        if not name:
            return "*"
        if self._get_action().endswith("ScheduleGroup"):
            return arn(self, "scheduler", f"schedule-group/{name}")
        body = json_body(self) if self.method in ("POST", "PUT") else {}
        group = body.get("GroupName") or self.querystring.get("groupName", ["default"])[0]
        return arn(self, "scheduler", f"schedule/{group}/{name}")

    def cluster_resource(self: Any) -> str:
        name = uri_parameter(self, "name")
        return arn(self, "eks", f"cluster/{name}") if name else "*"

    def authorize_lambda(self: Any, resource: str = "*") -> None:
        operation = self._get_action()
        authorize_as(self, {"Invoke": "InvokeFunction"}.get(operation, operation), function_resource(self))

    LambdaResponse._authenticate_and_authorize_normal_action = authorize_lambda
    EventBridgeSchedulerResponse._determine_resource = schedule_resource
    EKSResponse._determine_resource = cluster_resource

    original_s3 = S3Response._authenticate_and_authorize_s3_action

    def s3_authorize(self: Any, *args: Any, **kwargs: Any) -> None:
        presigned = "X-Amz-Signature" in self.querystring and "Authorization" not in self.headers
        if not presigned:
            original_s3(self, *args, **kwargs)

    S3Response._authenticate_and_authorize_s3_action = s3_authorize


def main() -> None:
    _lambda_without_docker()
    _role_policy_documents()
    _schedule_groups()
    _resource_scoped_iam()
    _import_rest_api_body()
    _outputs_after_change_sets()
    _function_layers()
    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", sys.argv[1]])


if __name__ == "__main__":
    main()
