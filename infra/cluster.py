"""What the stack sets up on the EKS side: access entries for the reconciler roles (edit rights in the stage's
namespace and the team namespaces' pod namespaces, nothing cluster-wide) and the step pods' role, bound to their service account with EKS Pod
Identity, allowed only the data bucket's task and artifact prefixes."""

from __future__ import annotations

import hashlib
from typing import Any

from infra import template_parts as parts
from infra.storage import POD_READ_PREFIXES, POD_WRITE_PREFIXES

EDIT_POLICY = "arn:${AWS::Partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"


def access_entry(role_id: str, tags: dict[str, str], pod_namespaces: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "Type": "AWS::EKS::AccessEntry",
        "Properties": {
            "ClusterName": parts.ref("ClusterName"),
            "PrincipalArn": parts.get_att(role_id),
            "Type": "STANDARD",
            "AccessPolicies": [
                {
                    "PolicyArn": parts.sub(EDIT_POLICY),
                    "AccessScope": {
                        "Type": "namespace",
                        "Namespaces": [parts.ref("Namespace"), *pod_namespaces],
                    },
                }
            ],
            "Tags": parts.tag_list(tags),
        },
    }


def pod_role(tags: dict[str, str]) -> dict[str, Any]:
    statements = [
        parts.statement(
            "ReadTaskFilesAndArtifacts",
            ["s3:GetObject", "s3:GetObjectVersion"],
            [{"Fn::Sub": f"${{DataBucket.Arn}}/{prefix}*"} for prefix in POD_READ_PREFIXES],
        ),
        parts.statement(
            "WriteResultsAndArtifacts",
            ["s3:PutObject"],
            [{"Fn::Sub": f"${{DataBucket.Arn}}/{prefix}*"} for prefix in POD_WRITE_PREFIXES],
        ),
        parts.statement(
            "ListArtifacts",
            ["s3:ListBucket"],
            [parts.get_att("DataBucket")],
            Condition={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in POD_READ_PREFIXES]}},
        ),
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": parts.policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ]
            ),
            "Policies": [{"PolicyName": "task-data", "PolicyDocument": parts.policy_document(statements)}],
            "Tags": parts.tag_list(tags),
        },
    }


def team_pod_identity_id(namespace: str) -> str:
    """A stable logical id for the pod identity of one team namespace."""
    return "PodIdentity" + hashlib.sha256(namespace.encode()).hexdigest()[:10].upper()


def team_pod_identity_association(namespace: str, tags: dict[str, str]) -> dict[str, Any]:
    """The pod role for the profile service account of one team namespace (its pods reach the bucket)."""
    return {
        "Type": "AWS::EKS::PodIdentityAssociation",
        "Properties": {
            "ClusterName": parts.ref("ClusterName"),
            "Namespace": namespace,
            "ServiceAccount": parts.ref("ProfileServiceAccount"),
            "RoleArn": parts.get_att("PodRole"),
            "Tags": parts.tag_list(tags),
        },
    }


def pod_identity_association(tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Type": "AWS::EKS::PodIdentityAssociation",
        "Properties": {
            "ClusterName": parts.ref("ClusterName"),
            "Namespace": parts.ref("Namespace"),
            "ServiceAccount": parts.ref("PodServiceAccount"),
            "RoleArn": parts.get_att("PodRole"),
            "Tags": parts.tag_list(tags),
        },
    }
