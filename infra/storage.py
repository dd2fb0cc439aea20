"""The stack's data bucket and dead-letter queue."""

from __future__ import annotations

from typing import Any

from infra import template_parts as parts
from infra.stage import DATA_BUCKET_NAME

# Object prefixes the step pods' role may read and write (the launcher's task and result files, artifacts).
POD_READ_PREFIXES = ("runs/", "artifacts/")
POD_WRITE_PREFIXES = ("runs/", "artifacts/")


def data_bucket(tags: dict[str, str]) -> dict[str, Any]:
    """Versioned, encrypted, private; S3 → EventBridge on (the upload trigger); logs/ expire."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": parts.sub(DATA_BUCKET_NAME),
            "VersioningConfiguration": {"Status": "Enabled"},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-task-logs",
                        "Status": "Enabled",
                        "Prefix": "logs/",
                        "ExpirationInDays": parts.ref("LogRetentionDays"),
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    },
                    {
                        "Id": "expire-package-uploads",
                        "Status": "Enabled",
                        "Prefix": "uploads/",
                        "ExpirationInDays": 1,
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                    },
                    {
                        "Id": "expire-old-versions",
                        "Status": "Enabled",
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    },
                ]
            },
            "Tags": parts.tag_list(tags),
        },
    }


def data_bucket_policy() -> dict[str, Any]:
    """Refuse plain-HTTP access to the bucket."""
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": parts.ref("DataBucket"),
            "PolicyDocument": parts.policy_document(
                [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": [parts.get_att("DataBucket"), parts.sub("${DataBucket.Arn}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
        },
    }


def dead_letter_queue(tags: dict[str, str]) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True,
            "Tags": parts.tag_list(tags),
        },
    }
