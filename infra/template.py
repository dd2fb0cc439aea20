"""The merge template of a stage: everything `chalice package` does not generate (the data plane, roles'
policies, cluster access, dead letters, observability, parameters and outputs), deep-merged into the SAM
template Chalice writes (`chalice package --merge-template`).

    template = merge_template("dev")
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.api.upload_results import LARGE_PACKAGE_HINT
from infra import cluster, observability, storage
from infra import template_parts as parts
from infra.functions import FUNCTIONS, FunctionAccess, environment, policy
from infra.stage import LOG_LEVELS, PROJECT
from infra.tables import table_resource, table_shapes

API_ID = "RestAPI"
# The functions an S3 "Object Created" rule triggers → the rule's event name (as `chalice package` names it).
BUCKET_RULE_EVENTS = {
    "RegisterUploadedPipeline": "RegisterUploadedPipelineEvent",
    "ReconcileResult": "ReconcileResultEvent",
}


def parameters() -> dict[str, Any]:
    return {
        "ClusterName": {
            "Type": "String",
            "AllowedPattern": "^[0-9A-Za-z][A-Za-z0-9\\-_]*$",
            "Description": "EKS cluster the step pods run on",
        },
        "Namespace": {"Type": "String", "Description": "Kubernetes namespace of the step pods"},
        "SubnetIds": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "Subnets of the reconciler functions (a private EKS endpoint); empty: no VPC",
        },
        "SecurityGroupIds": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "Security groups of the reconciler functions, with SubnetIds",
        },
        "LauncherImage": {
            "Type": "String",
            "Default": "",
            "Description": "Launcher image URI; empty: <this stack's ECR repository>:latest",
        },
        "LogLevel": {"Type": "String", "Default": "INFO", "AllowedValues": list(LOG_LEVELS)},
        "PodServiceAccount": {
            "Type": "String",
            "Default": "kfp-serverless-pods",
            "Description": "Service account of the step pods (bound to PodRole with EKS Pod Identity)",
        },
        "ApiThrottleRate": {"Type": "Number", "Default": 50, "MinValue": 1},
        "ApiThrottleBurst": {"Type": "Number", "Default": 100, "MinValue": 1},
        "StalledRunSeconds": {"Type": "Number", "Default": 3600, "MinValue": 60},
        "LogRetentionDays": {"Type": "Number", "Default": 90, "MinValue": 1},
        "DataProtection": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": "Deletion protection on the tables (on for prod-like stages)",
        },
        # OIDC/Cognito JWTs beside the API tokens (empty issuer: API tokens only).
        "OidcIssuer": {
            "Type": "String",
            "Default": "",
            "Description": "JWT issuer, e.g. a Cognito user pool URL",
        },
        "OidcAudience": {"Type": "String", "Default": "", "Description": "JWT audience (the app client id)"},
        "OidcJwksUrl": {
            "Type": "String",
            "Default": "",
            "Description": "empty: <issuer>/.well-known/jwks.json",
        },
        "OidcNamespacesClaim": {"Type": "String", "Default": "cognito:groups"},
        "OidcAdminGroup": {"Type": "String", "Default": "kfp-admin"},
        "PodNamespaceTemplate": {
            "Type": "String",
            "Default": "",
            "Description": "multi-user pods: the Kubernetes namespace of a KFP namespace, e.g. kfp-{namespace}",
        },
        "PodNamespaces": {
            "Type": "String",
            "Default": "",
            "Description": "the team namespaces' Kubernetes namespaces (comma-separated), watched by the reconciler",
        },
        "ProfileServiceAccount": {
            "Type": "String",
            "Default": "default-editor",
            "Description": "service account of the team namespaces' pods (bound to PodRole)",
        },
        "OidcAuthorizeUrl": {
            "Type": "String",
            "Default": "",
            "Description": "the dashboard's sign-in: the issuer's authorization endpoint (Cognito hosted UI)",
        },
    }


def conditions() -> dict[str, Any]:
    return {
        "InVpc": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", parts.ref("SubnetIds")]}, ""]}]},
        "DefaultLauncherImage": {"Fn::Equals": [parts.ref("LauncherImage"), ""]},
        "ProtectData": {"Fn::Equals": [parts.ref("DataProtection"), "true"]},
    }


def _function_override(function: FunctionAccess, stage: str, tags: dict[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Environment": {"Variables": {"KFPS_STAGE": stage, **environment(function)}},
        "Tags": tags,
        "PropagateTags": True,  # onto the rules and permissions SAM generates
    }
    if function.reaches_cluster:
        properties["VpcConfig"] = {
            "Fn::If": [
                "InVpc",
                {"SubnetIds": parts.ref("SubnetIds"), "SecurityGroupIds": parts.ref("SecurityGroupIds")},
                parts.ref("AWS::NoValue"),
            ]
        }
    if function.logical_id in BUCKET_RULE_EVENTS:
        # The rule matches this stack's bucket (app.py cannot know its generated name).
        properties["Events"] = {
            BUCKET_RULE_EVENTS[function.logical_id]: {
                "Properties": {"Pattern": {"detail": {"bucket": {"name": [parts.ref("DataBucket")]}}}}
            }
        }
    return {"Properties": properties}


def _role_override(function: FunctionAccess, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Properties": {
            "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": policy(function)}],
            "Tags": parts.tag_list(tags),
        }
    }


def _log_group(function_id: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": parts.sub(f"/aws/lambda/${{{function_id}}}"),
            "RetentionInDays": 30,
            "Tags": parts.tag_list(tags),
        },
    }


def _async_config(function_id: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": parts.ref(function_id),
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": parts.get_att("DeadLetterQueue")}},
        },
    }


def _scheduler_resources(tags: dict[str, str]) -> dict[str, Any]:
    return {
        "ScheduleGroup": {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": parts.ref("AWS::StackName"), "Tags": parts.tag_list(tags)},
        },
        "SchedulerRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": parts.policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": parts.ref("AWS::AccountId")}},
                        }
                    ]
                ),
                "Policies": [
                    {
                        "PolicyName": "invoke-fire-recurring-run",
                        "PolicyDocument": parts.policy_document(
                            [
                                parts.statement(
                                    "FireRecurringRun",
                                    ["lambda:InvokeFunction"],
                                    [parts.get_att("FireRecurringRun")],
                                )
                            ]
                        ),
                    }
                ],
                "Tags": parts.tag_list(tags),
            },
        },
    }


def _launcher_repository(tags: dict[str, str]) -> dict[str, Any]:
    keep_ten = {
        "rules": [
            {
                "rulePriority": 1,
                "description": "keep the last 10 images",
                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
                "action": {"type": "expire"},
            }
        ]
    }
    return {
        "Type": "AWS::ECR::Repository",
        "Properties": {
            "RepositoryName": parts.sub("${AWS::StackName}-launcher"),
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "EncryptionConfiguration": {"EncryptionType": "AES256"},
            "EmptyOnDelete": True,
            "LifecyclePolicy": {"LifecyclePolicyText": json.dumps(keep_ten)},
            "Tags": parts.tag_list(tags),
        },
    }


def _too_large_response() -> dict[str, Any]:
    """API Gateway's own answer to a body over its 10 MB limit: 413 naming the presigned upload route.
    (Bodies between ≈ 6 MB and 10 MB fail at Lambda's payload limit, which API Gateway reports as a 5xx.)"""
    message = f"the request body is over API Gateway's 10 MB limit. {LARGE_PACKAGE_HINT}"
    body = json.dumps({"error_message": message, "error_details": message})
    return {"StatusCode": 413, "ResponseTemplates": {"application/json": body}}


def _no_route_response() -> dict[str, Any]:
    """API Gateway's own answer to a method or path the API does not define (its default is a 403 "Missing
    Authentication Token" whose text can echo the Authorization header): a JSON 404 that echoes nothing."""
    message = "no route of this API matches the request's method and path"
    body = json.dumps({"error_message": message, "error_details": message})
    return {"StatusCode": 404, "ResponseTemplates": {"application/json": body}}


def _api_override(tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Properties": {
            "Name": parts.ref("AWS::StackName"),
            "GatewayResponses": {
                "REQUEST_TOO_LARGE": _too_large_response(),
                "MISSING_AUTHENTICATION_TOKEN": _no_route_response(),
            },
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": parts.ref("ApiThrottleRate"),
                    "ThrottlingBurstLimit": parts.ref("ApiThrottleBurst"),
                    "MetricsEnabled": True,
                }
            ],
            "Tags": tags,
            "PropagateTags": True,
        }
    }


def outputs() -> dict[str, Any]:
    values: dict[str, Any] = {
        "ApiUrl": parts.sub(
            "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + observability.API_STAGE
        ),
        "DataBucketName": parts.ref("DataBucket"),
        "TablePrefix": parts.ref("AWS::StackName"),
        "ScheduleGroupName": parts.ref("ScheduleGroup"),
        "SchedulerRoleArn": parts.get_att("SchedulerRole"),
        "LauncherRepositoryUri": parts.get_att("LauncherRepository", "RepositoryUri"),
        "PodRoleArn": parts.get_att("PodRole"),
        "DeadLetterQueueUrl": parts.ref("DeadLetterQueue"),
        "AlarmTopicArn": parts.ref("AlarmTopic"),
        "DashboardName": parts.ref("Dashboard"),
    }
    for shape in table_shapes():
        values[shape.logical_id + "Name"] = parts.ref(shape.logical_id)
    for function in FUNCTIONS:
        values[function.logical_id + "FunctionName"] = parts.ref(function.logical_id)
        values[function.role_id + "Arn"] = parts.get_att(function.role_id)
    return {name: {"Value": value} for name, value in values.items()}


def merge_template(stage: str, pod_namespaces: tuple[str, ...] = ()) -> dict[str, Any]:
    """The merge template of `stage` (a JSON-ready dict); `pod_namespaces`: the team namespaces' Kubernetes
    namespaces, each given the reconcilers' access and a pod identity for its profile service account."""
    tags = {"project": PROJECT, "stage": stage}
    resources: dict[str, Any] = {}
    for shape in table_shapes():
        resources[shape.logical_id] = table_resource(shape, tags)
    resources["DataBucket"] = storage.data_bucket(tags)
    resources["DataBucketPolicy"] = storage.data_bucket_policy()
    resources["DeadLetterQueue"] = storage.dead_letter_queue(tags)
    resources.update(_scheduler_resources(tags))
    resources["LauncherRepository"] = _launcher_repository(tags)
    resources["PodRole"] = cluster.pod_role(tags)
    resources["PodIdentity"] = cluster.pod_identity_association(tags)
    for namespace in pod_namespaces:
        resources[cluster.team_pod_identity_id(namespace)] = cluster.team_pod_identity_association(
            namespace, tags
        )
    resources[API_ID] = _api_override(tags)
    for function in FUNCTIONS:
        resources[function.logical_id] = _function_override(function, stage, tags)
        resources[function.role_id] = _role_override(function, tags)
        resources[function.logical_id + "LogGroup"] = _log_group(function.logical_id, tags)
        if function.async_invoked:
            resources[function.logical_id + "AsyncConfig"] = _async_config(function.logical_id)
        if function.reaches_cluster:
            resources[function.logical_id + "AccessEntry"] = cluster.access_entry(
                function.role_id, tags, pod_namespaces
            )
    resources["Dashboard"] = observability.dashboard(stage, tags)
    resources.update(observability.alarms(stage, tags))
    return {
        "Description": f"KFP Serverless, stage {stage}",
        "Parameters": parameters(),
        "Conditions": conditions(),
        "Resources": resources,
        "Outputs": outputs(),
    }
