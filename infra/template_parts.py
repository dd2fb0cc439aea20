"""Small builders for CloudFormation JSON shared by the template modules: tags, ARNs, policy statements."""

from __future__ import annotations

from typing import Any


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def arn(service: str, resource: str, region: bool = True, account: bool = True) -> dict[str, str]:
    """`arn:<partition>:<service>:<region>:<account>:<resource>`; `resource` may use ${...} substitutions."""
    region_part = "${AWS::Region}" if region else ""
    account_part = "${AWS::AccountId}" if account else ""
    return sub(f"arn:${{AWS::Partition}}:{service}:{region_part}:{account_part}:{resource}")


def statement(sid: str, actions: list[str], resources: list[Any], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def get_att(logical_id: str, attribute: str = "Arn") -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}
