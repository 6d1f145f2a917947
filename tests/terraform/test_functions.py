"""Each function gets exactly the settings its code reads and the permissions its calls need."""

from __future__ import annotations

import ast
import re

import pytest

from lambdas.settings import MIN_BCRYPT_ROUNDS, Settings
from reference_stack.package import BUILD
from tests.terraform.code_reach import reach, settings_env_names
from tests.terraform.terraform_config import (
    ROOT,
    STACK,
    TF_DIR,
    blocks,
    dynamic_blocks,
    evaluate,
    locals_,
    named_blocks,
    strings,
)

RESOURCES = blocks("resource")
DATA = blocks("data")
FUNCTIONS = STACK["functions"]
TABLE_BY_ENV = {table["env"]: key for key, table in STACK["tables"].items()}

# Read by the code but set only off AWS: the local stage and tests pass the key itself; on AWS
# the functions get CHATSTACK_JWT_SECRET_PARAM and read the key from SSM at run time.
LOCAL_ONLY = {"CHATSTACK_JWT_SECRET"}


def _policy_statements() -> list[dict]:
    """Every statement of the per-function policy: static ones and dynamic contents."""
    policy = DATA[("aws_iam_policy_document", "function")]
    statements = [dict(s, for_each=None) for s in policy["statement"]]
    for dynamic in dynamic_blocks(policy, "statement"):
        statements += [dict(c, for_each=dynamic["for_each"]) for c in dynamic["content"]]
    return statements


def _statement(sid: str) -> dict:
    (found,) = [s for s in _policy_statements() if s.get("sid") == sid]
    return found


def test_functions_are_built_from_the_definition():
    """One function per stack.json entry: its handler, memory and timeout, the built package."""
    function = RESOURCES[("aws_lambda_function", "this")]
    assert function["for_each"] == "${local.functions}"
    assert function["handler"] == "${each.value.handler}"
    assert function["memory_size"] == "${each.value.memory_mb}"
    assert function["timeout"] == "${each.value.timeout_s}"
    assert function["runtime"] == "${local.lambda_runtime}"
    assert function["architectures"] == ["${var.lambda_architecture}"]
    assert function["filename"] == "${var.lambda_zip}"
    assert function["source_code_hash"] == "${filebase64sha256(var.lambda_zip)}"
    assert function["role"] == "${aws_iam_role.function[each.key].arn}"


def test_the_default_package_path_is_where_the_build_writes_it():
    """var.lambda_zip's default, from reference_stack/terraform, is build/lambda.zip."""
    default = named_blocks("variable")["lambda_zip"]["default"]
    assert (TF_DIR / default).resolve() == BUILD / "lambda.zip"
    architecture = named_blocks("variable")["lambda_architecture"]
    assert architecture["default"] == "arm64"


def test_each_function_gets_exactly_the_variables_its_stack_entry_lists():
    """The environment is built from each.value.env alone, each name's value from one map."""
    function = RESOURCES[("aws_lambda_function", "this")]
    (environment,) = dynamic_blocks(function, "environment")
    assert environment["for_each"] == "${length(each.value.env) > 0 ? [each.value.env] : []}"
    assert environment["content"] == [
        {"variables": "${{for name in environment.value : name => local.env_values[name]}}"}
    ]


def _env_value_names() -> set[str]:
    expression = locals_("lambda.tf")["env_values"]
    names = set(re.findall(r"\b(CHATSTACK_\w+) =", expression))
    assert "{for key, table in local.tables : table.env => aws_dynamodb_table" in expression
    return names | {table["env"] for table in STACK["tables"].values()}


def test_values_exist_for_every_listed_name_and_only_for_settings_the_code_defines():
    """Every name a function lists has a value; every value is a CHATSTACK_* of settings.py."""
    listed = {name for fn in FUNCTIONS.values() for name in fn["env"]}
    provided = _env_value_names()
    assert listed <= provided
    assert provided <= settings_env_names()
    assert "CHATSTACK_JWT_SECRET" not in provided, "the key itself is never in the environment"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_handler_reads_exactly_the_variables_stack_json_lists(name):
    """The CHATSTACK_* names the handler's code reaches are its stack.json env, no more, no less."""
    read = reach(FUNCTIONS[name]["handler"]).env
    assert read - LOCAL_ONLY == set(FUNCTIONS[name]["env"])


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_stack_json_grants_cover_every_dynamodb_call_the_handler_makes(name):
    """Per table, the IAM actions of the boto3 calls the code reaches are all granted."""
    reached = reach(FUNCTIONS[name]["handler"])
    granted = FUNCTIONS[name]["tables"]
    tables = {TABLE_BY_ENV[env] for env in reached.actions_by_table_env}
    assert tables == set(granted), "a function is granted exactly the tables it uses"
    for env, actions in reached.actions_by_table_env.items():
        missing = actions - set(granted[TABLE_BY_ENV[env]])
        assert not missing, f"{name} calls {sorted(missing)} on {TABLE_BY_ENV[env]}"


def test_the_code_scan_finds_the_calls_it_claims_to():
    """The scan is not vacuous: known calls of known handlers are found."""
    assert reach(FUNCTIONS["signup"]["handler"]).boto3_calls == {
        "transact_write_items",  # the user, the e-mail claim, the username index entry
        "update_item",  # general's member count
        "delete_item",  # the count's entry, were it to reach zero
    }
    people = reach(FUNCTIONS["create_chat"]["handler"]).actions_by_table_env
    assert people["CHATSTACK_USERS_TABLE"] == {"dynamodb:BatchGetItem"}  # through batch_get()
    broadcaster = reach(FUNCTIONS["broadcaster"]["handler"])
    assert "get_paginator('query')" in broadcaster.boto3_calls
    assert "batch_write_item" in broadcaster.boto3_calls
    joined = reach(FUNCTIONS["join_room"]["handler"]).actions_by_table_env
    assert joined["CHATSTACK_CONNECTIONS_TABLE"] >= {"dynamodb:UpdateItem", "dynamodb:PutItem"}
    assert reach(FUNCTIONS["default"]["handler"]).actions_by_table_env == {}


def test_the_policy_grants_each_function_its_stack_json_actions_on_its_tables_only():
    """One statement per granted table: stack.json's action list, on that table's ARN (and on
    its indexes when the function queries a table that has some)."""
    policy = DATA[("aws_iam_policy_document", "function")]
    assert policy["for_each"] == "${local.functions}"
    (tables,) = [s for s in _policy_statements() if s["for_each"] == "${each.value.tables}"]
    assert tables["actions"] == "${statement.value}"
    assert tables["resources"] == (
        "${concat([aws_dynamodb_table.this[statement.key].arn], "
        'contains(statement.value, "dynamodb:Query") && '
        "length(local.tables[statement.key].indexes) > 0 ? "
        '["${aws_dynamodb_table.this[statement.key].arn}/index/*"] : [])}'
    )
    role_policy = RESOURCES[("aws_iam_role_policy", "function")]
    assert role_policy["policy"] == "${data.aws_iam_policy_document.function[each.key].json}"
    assert role_policy["role"] == "${aws_iam_role.function[each.key].id}"


def test_no_statement_grants_a_wildcard_resource_except_x_ray():
    """Only X-Ray's two actions, which have no resource-level permissions, take "*"."""
    for statement in _policy_statements():
        resources = list(strings(statement.get("resources", [])))
        if "*" in resources:
            assert statement["actions"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        assert not any(r.endswith("table/*") for r in resources)


def test_dynamodb_actions_come_from_stack_json_except_reading_the_stream():
    """Besides the per-table statement, only the stream's read actions name DynamoDB."""
    stream_actions = {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    others = [
        action
        for statement in _policy_statements()
        if statement["for_each"] != "${each.value.tables}"
        for action in strings(statement["actions"])
        if action.startswith("dynamodb:")
    ]
    assert others and set(others) <= stream_actions


def test_manage_connections_is_post_only_on_this_apis_stage(tmp_path):
    """Only the functions that send frames may POST to @connections, of this API's stage
    only."""
    statement = _statement("PostToConnections")
    assert statement["actions"] == ["execute-api:ManageConnections"]
    assert statement["resources"] == [
        "${aws_apigatewayv2_api.ws.execution_arn}/${var.stage}/POST/@connections/*"
    ]
    assert statement["for_each"] == "${each.value.manages_connections ? [1] : []}"
    functions = evaluate(tmp_path).local("functions")
    posting = {k for k, f in functions.items() if f["manages_connections"]}
    # Messages; shards; roomJoined/roomLeft to a user's other connections; chatAdded/Removed;
    # receipts (and delivered ones), typing, presence on the first and last connection.
    assert posting == {
        *("broadcaster", "fanout_shard", "join_room", "leave_room", "chat_events"),
        *("receipt", "mark_read", "send_typing", "connect", "disconnect"),
    }


def test_the_code_only_ever_posts_to_connections():
    """POST-only is enough: nothing in lambdas/ gets or deletes a connection."""
    calls, methods = set(), set()
    for path in (ROOT / "lambdas").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.endswith("_connection"):
                calls.add(node.attr)
            if isinstance(node, ast.keyword) and node.arg == "method":
                methods.add(getattr(node.value, "value", None))
    assert calls - {"open_connection"} == {"post_to_connection"}  # asyncio's, for the signed path
    assert methods <= {"POST"}, "whatever names a method must name POST only"
    signed = (ROOT / "lambdas" / "domain" / "signed_delivery.py").read_text(encoding="utf-8")
    assert '"POST {path} HTTP/1.1"' in signed.replace('f"', '"')
    signer = (ROOT / "lambdas" / "domain" / "sigv4.py").read_text(encoding="utf-8")
    canonical = [line for line in signer.splitlines() if "canonical = " in line]
    assert canonical and all('"POST\\n' in line.replace('f"', '"') for line in canonical), (
        "the signed path must sign POST requests only"
    )


def test_the_management_url_is_this_apis_stage():
    """CHATSTACK_MANAGEMENT_URL: https://{ws api id}.execute-api.{region}.{dns suffix}/{stage},
    the partition's DNS suffix (amazonaws.com, amazonaws.com.cn…), the provider's region."""
    expression = locals_("lambda.tf")["env_values"]
    expected = (
        'CHATSTACK_MANAGEMENT_URL = "https://${aws_apigatewayv2_api.ws.id}'
        '.execute-api.${local.region}.${local.dns_suffix}/${var.stage}"'
    )
    assert expected in expression
    assert locals_("main.tf")["region"] == "${var.region}"
    assert locals_("main.tf")["dns_suffix"] == "${data.aws_partition.current.dns_suffix}"


def test_the_jwt_secret_is_generated_kept_in_ssm_and_read_at_run_time(tmp_path):
    """A generated password → SSM SecureString (write-only); functions get only its name."""
    parameter = RESOURCES[("aws_ssm_parameter", "jwt_secret")]
    assert parameter["type"] == "SecureString"
    assert parameter["value_wo"] == (
        "${ephemeral.aws_secretsmanager_random_password.jwt_secret.random_password}"
    )
    assert "value" not in parameter and "insecure_value" not in parameter
    assert parameter["key_id"] == "${aws_kms_key.main.arn}"
    generated = blocks("ephemeral")[("aws_secretsmanager_random_password", "jwt_secret")]
    assert generated["password_length"] == 64 and generated["exclude_punctuation"] is True
    assert (
        "CHATSTACK_JWT_SECRET_PARAM = aws_ssm_parameter.jwt_secret.name"
        in (locals_("lambda.tf")["env_values"])
    )
    statement = _statement("JwtSecret")
    assert statement["actions"] == ["ssm:GetParameter"]
    assert statement["resources"] == ["${aws_ssm_parameter.jwt_secret.arn}"]
    assert statement["for_each"] == "${each.value.reads_jwt_secret ? [1] : []}"
    functions = evaluate(tmp_path).local("functions")
    readers = {k for k, f in functions.items() if f["reads_jwt_secret"]}
    assert readers == {k for k, f in FUNCTIONS.items() if "CHATSTACK_JWT_SECRET_PARAM" in f["env"]}
    bearer_routes = {r["function"] for r in STACK["rest_routes"]} - {"signup", "login"}
    assert readers == {"login", "connect"} | bearer_routes


def test_a_key_rotation_changes_every_readers_configuration():
    """jwt_secret_version reaches each function that reads the key, as an environment value
    (through the parameter, so after it is rewritten): a rotation changes their configuration,
    and Lambda runs their next invocation in new containers, which read the new key."""
    expression = locals_("lambda.tf")["env_values"]
    assert (
        "CHATSTACK_JWT_SECRET_VERSION = tostring(aws_ssm_parameter.jwt_secret.value_wo_version)"
        in expression
    )
    parameter = RESOURCES[("aws_ssm_parameter", "jwt_secret")]
    assert parameter["value_wo_version"] == "${var.jwt_secret_version}"
    for name, function in FUNCTIONS.items():
        reads_key = "CHATSTACK_JWT_SECRET_PARAM" in function["env"]
        assert reads_key == ("CHATSTACK_JWT_SECRET_VERSION" in function["env"]), name


def test_no_secret_is_a_variable_default_or_an_output():
    """No variable default or output carries or references the key or the generated password."""
    for name, variable in named_blocks("variable").items():
        if re.search(r"secret|password|token|key", name) and "default" in variable:
            assert isinstance(variable["default"], int | float), name
    for name, output in named_blocks("output").items():
        value = " ".join(strings(output["value"]))
        assert not re.search(r"random_password|ssm_parameter|secret|password", value), name
        assert output.get("sensitive") is not True, name


def test_the_stream_consumers_alone_read_their_streams_and_send_failures(tmp_path):
    """Stream read actions on the streams a function consumes, SendMessage on the failure
    queue; no other function reads a stream."""
    stream = _statement("ReadStream")
    assert stream["resources"] == (
        "${[for table in each.value.stream_tables : aws_dynamodb_table.this[table].stream_arn]}"
    )
    assert stream["for_each"] == "${length(each.value.stream_tables) > 0 ? [1] : []}"
    assert _statement("StreamFailures")["resources"] == ["${aws_sqs_queue.stream_failures.arn}"]
    functions = evaluate(tmp_path).local("functions")
    consumers = {k: f["stream_tables"] for k, f in functions.items() if f["stream_tables"]}
    assert consumers == {"broadcaster": ["messages"], "chat_inbox": ["messages"]} | {
        "chat_events": ["chats"]
    }
    assert set(consumers) == {s["function"] for s in STACK["streams"]}


def test_every_log_group_keeps_logs_seven_days_encrypted():
    """Functions' and both APIs' log groups: var.log_retention_days (7), the stage's key."""
    groups = {k: v for k, v in RESOURCES.items() if k[0] == "aws_cloudwatch_log_group"}
    assert {name for _, name in groups} == {
        "function",
        "rest_access",
        "rest_execution",
        "ws_access",
        "ws_execution",
    }
    for group in groups.values():
        assert group["retention_in_days"] == "${var.log_retention_days}"
        assert group["kms_key_id"] == "${aws_kms_key.main.arn}"
    assert named_blocks("variable")["log_retention_days"]["default"] == 7
    (logging,) = RESOURCES[("aws_lambda_function", "this")]["logging_config"]
    assert logging["log_group"] == "${aws_cloudwatch_log_group.function[each.key].name}"


def test_settings_variable_defaults_and_bounds_are_those_of_settings_py(tmp_path):
    """Terraform's defaults equal Settings'; bcrypt rounds below the code's minimum are refused."""
    defaults = evaluate(tmp_path / "defaults").var("settings")
    code = Settings()
    expected = {name: getattr(code, name) for name in defaults}
    assert defaults == {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}
    refused = evaluate(
        tmp_path / "weak", variables={"settings": f"{{bcrypt_rounds = {MIN_BCRYPT_ROUNDS - 1}}}"}
    )
    assert isinstance(refused, str) and "bcrypt_rounds" in refused
    accepted = evaluate(
        tmp_path / "min", variables={"settings": f"{{bcrypt_rounds = {MIN_BCRYPT_ROUNDS}}}"}
    )
    assert not isinstance(accepted, str), accepted


def test_outputs_are_the_stage_urls():
    """rest_url, ws_url and web_url, the shape the conformance suite and Locust read."""
    outputs = named_blocks("output")
    assert outputs["rest_url"]["value"] == "${aws_api_gateway_stage.rest.invoke_url}"
    assert outputs["ws_url"]["value"] == "${aws_apigatewayv2_stage.ws.invoke_url}"
    assert outputs["web_url"]["value"] == "https://${aws_cloudfront_distribution.web.domain_name}/"
    config = RESOURCES[("aws_s3_object", "config")]
    assert config["key"] == "config.json"
    assert "restUrl = aws_api_gateway_stage.rest.invoke_url" in config["content"]
    assert "wsUrl = aws_apigatewayv2_stage.ws.invoke_url" in config["content"]


def test_only_the_broadcaster_and_the_fanout_function_invoke_the_fanout_function(tmp_path):
    """lambda:InvokeFunction on the fan-out function's ARN alone, for the functions that are
    given its name (the broadcaster, and the function itself for retry shards)."""
    statement = _statement("InvokeFanout")
    assert statement["actions"] == ["lambda:InvokeFunction"]
    assert statement["resources"] == [
        "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:"
        "${local.functions[local.fanout_function].name}"
    ]
    config = evaluate(tmp_path)
    functions = config.local("functions")
    assert {k for k, f in functions.items() if f["invokes_fanout"]} == {
        "broadcaster",
        "fanout_shard",
    }
    assert config.local("fanout_function") in FUNCTIONS
    assert FUNCTIONS[config.local("fanout_function")]["handler"].endswith("fanout_shard.handler")


def test_asynchronous_events_are_retried_then_sent_to_a_failure_queue(tmp_path):
    """The fan-out function's event invoke config comes from stack.json; failures go to SQS,
    which only the asynchronously invoked functions may send to."""
    invoke_config = RESOURCES[("aws_lambda_function_event_invoke_config", "this")]
    assert invoke_config["for_each"] == "${local.async_functions}"
    assert invoke_config["maximum_retry_attempts"] == (
        "${each.value.async_invoke.maximum_retry_attempts}"
    )
    (destination,) = invoke_config["destination_config"]
    assert destination["on_failure"][0]["destination"] == "${aws_sqs_queue.async_failures.arn}"
    assert _statement("AsyncFailures")["resources"] == ["${aws_sqs_queue.async_failures.arn}"]
    asynchronous = evaluate(tmp_path).local("async_functions")
    assert set(asynchronous) == {k for k, f in FUNCTIONS.items() if f.get("async_invoke")}
    assert asynchronous["fanout_shard"]["async_invoke"] == {
        "maximum_retry_attempts": 2,
        "maximum_event_age_s": 3600,
    }
