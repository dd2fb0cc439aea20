"""The policy evaluator the least-privilege proof relies on: wildcards, conditions, Deny, and refusing what
it does not understand."""

import pytest

from tests.infra.aws_calls import AwsCall, IamRequest, iam_requests
from tests.infra.iam_policy import is_allowed, resolve

OBJECTS = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/runs/*"]}
PASS_ROLE = {
    "Effect": "Allow",
    "Action": "iam:PassRole",
    "Resource": "arn:aws:iam::1:role/r",
    "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
}


@pytest.mark.parametrize(
    ("request_", "allowed"),
    [
        (IamRequest("s3:GetObject", "arn:aws:s3:::b/runs/r1/spec.json"), True),
        (IamRequest("S3:getobject", "arn:aws:s3:::b/runs/x"), True),  # actions are case-insensitive
        (IamRequest("s3:GetObject", "arn:aws:s3:::b/RUNS/x"), False),  # resources are not
        (IamRequest("s3:GetObject", "arn:aws:s3:::b/packages/x"), False),
        (IamRequest("s3:PutObject", "arn:aws:s3:::b/runs/x"), False),
        (
            IamRequest(
                "iam:PassRole", "arn:aws:iam::1:role/r", (("iam:PassedToService", "scheduler.amazonaws.com"),)
            ),
            True,
        ),
        (
            IamRequest(
                "iam:PassRole", "arn:aws:iam::1:role/r", (("iam:PassedToService", "ec2.amazonaws.com"),)
            ),
            False,
        ),
        (IamRequest("iam:PassRole", "arn:aws:iam::1:role/r"), False),  # a condition key the request lacks
    ],
)
def test_allow_statements_match_actions_resources_and_conditions(request_, allowed) -> None:
    assert is_allowed([OBJECTS, PASS_ROLE], request_) is allowed


def test_an_explicit_deny_wins() -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/runs/secret*"}
    assert not is_allowed([OBJECTS, deny], IamRequest("s3:GetObject", "arn:aws:s3:::b/runs/secret.json"))


def test_what_the_evaluator_does_not_understand_raises() -> None:
    with pytest.raises(ValueError, match="NotAction"):
        is_allowed(
            [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}], IamRequest("s3:GetObject", "x")
        )
    with pytest.raises(ValueError, match="ArnLike"):
        is_allowed(
            [{**OBJECTS, "Condition": {"ArnLike": {"aws:SourceArn": "x"}}}],
            IamRequest("s3:GetObject", "arn:aws:s3:::b/runs/x"),
        )
    with pytest.raises(ValueError, match="no IAM mapping"):
        iam_requests(AwsCall("default", "sqs", "SendMessage", {}), "1", "us-east-1")


def test_transactions_are_checked_item_by_item_and_presigned_urls_as_their_operation() -> None:
    call = AwsCall(
        "default",
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "t-names"}}, {"ConditionCheck": {"TableName": "t-runs"}}]},
    )
    assert iam_requests(call, "1", "r") == [
        IamRequest("dynamodb:PutItem", "arn:aws:dynamodb:r:1:table/t-names"),
        IamRequest("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:r:1:table/t-runs"),
    ]
    versioned = AwsCall("default", "s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v"})
    assert iam_requests(versioned, "1", "r") == [IamRequest("s3:GetObjectVersion", "arn:aws:s3:::b/k")]


def test_template_intrinsics_resolve_for_one_stack() -> None:
    names = {"AWS::Region": "eu-west-1", "DataBucket.Arn": "arn:aws:s3:::b", "Reconcile.Arn": "arn:f"}
    template = {
        "Resource": [{"Fn::Sub": "${DataBucket.Arn}/runs/*"}, {"Fn::GetAtt": ["Reconcile", "Arn"]}],
        "Region": {"Fn::If": ["InVpc", "no", {"Ref": "AWS::Region"}]},
    }
    assert resolve(template, names, {"InVpc": False}) == {
        "Resource": ["arn:aws:s3:::b/runs/*", "arn:f"],
        "Region": "eu-west-1",
    }
