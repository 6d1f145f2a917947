"""The Terraform builds tables, routes and the stream mappings from the one definition."""

from __future__ import annotations

import ast
import copy
import re

import pytest

from lambdas.domain.chat_streams import MEMBER_KIND
from lambdas.domain.messages import MESSAGE_KIND
from reference_stack.package import DEFAULT_PYTHON_VERSION
from tests.terraform.terraform_config import (
    ROOT,
    STACK,
    TF_DIR,
    blocks,
    documents,
    dynamic_blocks,
    evaluate,
    locals_,
    strings,
)

RESOURCES = blocks("resource")
ONE_WAY_ROUTES = {"$connect", "$disconnect"}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """stack.tf evaluated by terraform against the real stack.json."""
    result = evaluate(tmp_path_factory.mktemp("evaluate"))
    assert not isinstance(result, str), result
    return result


def test_terraform_reads_the_one_stack_definition():
    """The module decodes reference_stack/stack.json, the file the local stage reads."""
    assert locals_("stack.tf")["stack"] == '${jsondecode(file("${path.module}/../stack.json"))}'
    assert (TF_DIR / ".." / "stack.json").resolve() == ROOT / "reference_stack" / "stack.json"
    reads = {
        read
        for document in documents().values()
        for text in strings(document)
        for read in re.findall(r"\b(\w*file\w*\([^)]*\))", text)
    }
    assert reads == {'file("${path.module}/../stack.json")', "filebase64sha256(var.lambda_zip)"}


def test_tables_take_keys_stream_and_ttl_from_the_definition():
    """aws_dynamodb_table.this is one table per stack.json entry, every key setting from it."""
    table = RESOURCES[("aws_dynamodb_table", "this")]
    assert table["for_each"] == "${local.tables}"
    assert table["hash_key"] == "${each.value.hash_key}"
    assert table["range_key"] == "${each.value.range_key}"
    assert table["stream_view_type"] == "${each.value.stream_view_type}"
    assert table["stream_enabled"] == "${each.value.stream_view_type != null}"
    (attribute,) = dynamic_blocks(table, "attribute")
    assert attribute["for_each"] == "${each.value.attributes}"
    assert attribute["content"] == [{"name": "${attribute.key}", "type": "${attribute.value}"}]
    (ttl,) = dynamic_blocks(table, "ttl")
    assert (
        ttl["for_each"] == "${each.value.ttl_attribute == null ? [] : [each.value.ttl_attribute]}"
    )
    assert ttl["content"] == [{"enabled": True, "attribute_name": "${ttl.value}"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["server_side_encryption"] == [
        {"enabled": True, "kms_key_arn": "${aws_kms_key.main.arn}"}
    ]


def test_no_table_setting_is_written_into_the_terraform():
    """No key name, attribute type, stream view or TTL attribute of stack.json is a literal."""
    defined = set()
    for table in STACK["tables"].values():
        defined |= {table["hash_key"], table["range_key"], *table["attributes"]}
        defined |= {table["stream_view_type"], table["ttl_attribute"]} - {None}
    literals = {text for document in documents().values() for text in strings(document)}
    assert defined & literals == set()


def test_evaluated_tables_are_the_definition(evaluated):
    """terraform's own evaluation of local.tables is stack.json's tables, plus a stage name."""
    tables = evaluated.local("tables")
    assert set(tables) == set(STACK["tables"])
    for key, table in tables.items():
        assert {k: v for k, v in table.items() if k != "name"} == STACK["tables"][key]
        assert table["name"] == f"chatstack-dev-{key}"
    messages = tables[STACK["streams"][0]["table"]]
    assert messages["stream_view_type"] == "NEW_IMAGE"
    assert tables["chats"]["indexes"]["inbox"] == {
        "hash_key": "inboxUser",
        "range_key": "inboxOrder",
        "projection": "ALL",
    }


def test_indexes_take_their_keys_from_the_definition():
    """aws_dynamodb_table.this has one global secondary index per entry of a table's indexes."""
    table = RESOURCES[("aws_dynamodb_table", "this")]
    (index,) = dynamic_blocks(table, "global_secondary_index")
    assert index["for_each"] == "${each.value.indexes}"
    assert index["content"] == [
        {
            "name": "${global_secondary_index.key}",
            "hash_key": "${global_secondary_index.value.hash_key}",
            "range_key": "${global_secondary_index.value.range_key}",
            "projection_type": "${global_secondary_index.value.projection}",
        }
    ]
    for table in STACK["tables"].values():
        for spec in table["indexes"].values():
            assert {spec["hash_key"], spec["range_key"]} <= set(table["attributes"])


def test_a_changed_definition_changes_what_terraform_builds(tmp_path):
    """Edit stack.json (a table, a key, a route, the batch size): the evaluation follows."""
    stack = copy.deepcopy(STACK)
    stack["tables"]["typing"] = {
        "env": "CHATSTACK_TYPING_TABLE",
        "hash_key": "roomId",
        "range_key": None,
        "attributes": {"roomId": "S"},
        "stream_view_type": None,
        "ttl_attribute": "expiresAt",
    }
    stack["tables"]["messages"]["stream_view_type"] = "NEW_AND_OLD_IMAGES"
    stack["websocket"]["routes"]["typing"] = "default"
    stack["rest_routes"].append({"method": "POST", "path": "/refresh", "function": "login"})
    stack["streams"][0]["batch_size"] = 25
    stack["rest_routes"].append({"method": "GET", "path": "/a/{b}/c", "function": "login"})
    evaluated = evaluate(tmp_path, stack=stack)
    assert not isinstance(evaluated, str), evaluated
    assert evaluated.local("tables")["typing"]["ttl_attribute"] == "expiresAt"
    assert evaluated.local("tables")["typing"]["range_key"] is None
    assert evaluated.local("tables")["messages"]["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert evaluated.local("ws_two_way_routes")["typing"] == "default"
    assert evaluated.local("rest_paths")["refresh"]["methods"] == ["POST"]
    assert evaluated.local("rest_paths")["a/{b}/c"]["parent"] == "a/{b}"
    assert evaluated.local("rest_routes")["GET /a/{b}/c"]["arn_path"] == "/a/*/c"
    assert evaluated.local("streams")[STACK["streams"][0]["name"]]["batch_size"] == 25


def test_websocket_routes_are_the_definition(evaluated):
    """Every route of stack.json; all but $connect/$disconnect answer on the connection."""
    routes = STACK["websocket"]["routes"]
    assert evaluated.local("ws_routes") == routes
    two_way = {r: f for r, f in routes.items() if r not in ONE_WAY_ROUTES}
    assert evaluated.local("ws_two_way_routes") == two_way
    assert {"$connect", "$disconnect", "$default", "sendMessage", "getMessages"} <= set(routes)
    assert {"joinRoom", "leaveRoom"} <= set(routes)


def test_websocket_api_wires_each_route_to_its_function():
    """Route → integration → the route's function, selection on the action, replies sent back."""
    api = RESOURCES[("aws_apigatewayv2_api", "ws")]
    assert api["protocol_type"] == "WEBSOCKET"
    assert (
        api["route_selection_expression"] == "${local.stack.websocket.route_selection_expression}"
    )
    assert STACK["websocket"]["route_selection_expression"] == "$request.body.action"
    integration = RESOURCES[("aws_apigatewayv2_integration", "route")]
    assert integration["for_each"] == "${local.ws_routes}"
    assert integration["integration_type"] == "AWS_PROXY"
    assert integration["integration_uri"] == "${aws_lambda_function.this[each.value].invoke_arn}"
    route = RESOURCES[("aws_apigatewayv2_route", "route")]
    assert route["for_each"] == "${local.ws_routes}"
    assert route["route_key"] == "${each.key}"
    assert route["target"] == "integrations/${aws_apigatewayv2_integration.route[each.key].id}"
    assert route["route_response_selection_expression"] == (
        '${contains(keys(local.ws_two_way_routes), each.key) ? "$default" : null}'
    )
    response = RESOURCES[("aws_apigatewayv2_route_response", "route")]
    assert response["for_each"] == "${local.ws_two_way_routes}"
    assert response["route_id"] == "${aws_apigatewayv2_route.route[each.key].id}"
    assert response["route_response_key"] == "$default"


def test_websocket_stage_is_named_after_the_stage_and_logs_access():
    """One stage, var.stage, auto-deployed after the routes, with access logs."""
    stage = RESOURCES[("aws_apigatewayv2_stage", "ws")]
    assert stage["name"] == "${var.stage}"
    assert stage["auto_deploy"] is True
    (logs,) = stage["access_log_settings"]
    assert logs["destination_arn"] == "${aws_cloudwatch_log_group.ws_access.arn}"
    assert "${aws_apigatewayv2_route.route}" in stage["depends_on"]
    assert "${aws_apigatewayv2_route_response.route}" in stage["depends_on"]


def test_rest_routes_are_the_definition(evaluated):
    """One method per stack.json route; one resource per path segment, with its methods."""
    assert set(evaluated.local("rest_routes")) == {
        f"{r['method']} {r['path']}" for r in STACK["rest_routes"]
    }
    paths = evaluated.local("rest_paths")
    for route in STACK["rest_routes"]:
        parts = route["path"].strip("/").split("/")
        for depth in range(1, len(parts) + 1):  # every ancestor is a resource too
            assert "/".join(parts[:depth]) in paths
        spec = paths["/".join(parts)]
        assert route["method"] in spec["methods"]
        assert (spec["depth"], spec["path_part"]) == (len(parts), parts[-1])
        assert spec["parent"] == "/".join(parts[:-1])
    assert paths["chats/{chatId}/messages"]["methods"] == ["GET"]
    assert paths["chats"]["methods"] == ["GET", "POST"]
    assert {("POST", "/signup"), ("POST", "/login")} <= {
        (r["method"], r["path"]) for r in STACK["rest_routes"]
    }
    preflights = evaluated.local("rest_route_paths")
    assert set(preflights) == {r["path"].strip("/") for r in STACK["rest_routes"]}


def test_rest_resources_are_built_level_by_level():
    """Level 1 hangs from the root, level 2 from level 1, level 3 from level 2."""
    top = RESOURCES[("aws_api_gateway_resource", "path")]
    assert top["for_each"] == "${local.rest_paths_by_depth[1]}"
    assert top["parent_id"] == "${aws_api_gateway_rest_api.rest.root_resource_id}"
    second = RESOURCES[("aws_api_gateway_resource", "path_level2")]
    assert second["parent_id"] == "${aws_api_gateway_resource.path[each.value.parent].id}"
    third = RESOURCES[("aws_api_gateway_resource", "path_level3")]
    assert third["parent_id"] == "${aws_api_gateway_resource.path_level2[each.value.parent].id}"
    assert max(len(r["path"].strip("/").split("/")) for r in STACK["rest_routes"]) <= 3


def test_rest_api_wires_each_route_to_its_function_and_answers_preflights():
    """POST routes proxy to their function; OPTIONS is a mock answering the CORS preflight."""
    method = RESOURCES[("aws_api_gateway_method", "route")]
    assert method["for_each"] == "${local.rest_routes}"
    assert method["http_method"] == "${each.value.method}"
    assert method["resource_id"] == "${local.rest_resource_ids[each.value.resource]}"
    integration = RESOURCES[("aws_api_gateway_integration", "route")]
    assert integration["type"] == "AWS_PROXY"
    assert integration["uri"] == "${aws_lambda_function.this[each.value.function].invoke_arn}"
    preflight = RESOURCES[("aws_api_gateway_method", "preflight")]
    assert preflight["http_method"] == "OPTIONS"
    assert RESOURCES[("aws_api_gateway_integration", "preflight")]["type"] == "MOCK"
    headers = RESOURCES[("aws_api_gateway_integration_response", "preflight")]
    headers = headers["response_parameters"]
    assert headers["method.response.header.Access-Control-Allow-Origin"] == "'${local.cors_origin}'"
    allowed = headers["method.response.header.Access-Control-Allow-Methods"]
    assert allowed == """'${join(",", concat(["OPTIONS"], each.value.methods))}'"""
    assert "Content-Type" in headers["method.response.header.Access-Control-Allow-Headers"]
    declared = RESOURCES[("aws_api_gateway_method_response", "preflight")]["response_parameters"]
    assert set(declared) == set(headers)


def test_api_gateway_may_invoke_each_function_only_from_this_stage():
    """Lambda permissions name this API, this stage and the route; nothing broader."""
    rest = RESOURCES[("aws_lambda_permission", "rest")]
    assert rest["source_arn"] == (
        "${aws_api_gateway_rest_api.rest.execution_arn}/${var.stage}/"
        "${each.value.method}${each.value.arn_path}"
    )
    assert rest["function_name"] == "${aws_lambda_function.this[each.value.function].function_name}"
    ws = RESOURCES[("aws_lambda_permission", "ws")]
    assert ws["for_each"] == "${local.ws_routes}"
    assert ws["source_arn"] == "${aws_apigatewayv2_api.ws.execution_arn}/${var.stage}/${each.key}"
    assert ws["function_name"] == "${aws_lambda_function.this[each.value].function_name}"


def _handler_defined(path: str) -> bool:
    module, _, name = path.rpartition(".")
    source = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    if not source.exists():
        return False
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body)


@pytest.mark.parametrize(
    "route, function",
    [*STACK["websocket"]["routes"].items()]
    + [(f"{r['method']} {r['path']}", r["function"]) for r in STACK["rest_routes"]],
)
def test_every_route_reaches_a_handler_that_exists_in_lambdas(route, function):
    """Each route's function has a handler path whose module in lambdas/ defines it."""
    assert function in STACK["functions"], route
    assert _handler_defined(STACK["functions"][function]["handler"]), route


def test_stream_mappings_follow_the_definition(evaluated):
    """One mapping per stack.json stream: its table and function, batch, retries and filters
    from there, failures to SQS."""
    mapping = RESOURCES[("aws_lambda_event_source_mapping", "stream")]
    assert mapping["for_each"] == "${local.streams}"
    assert mapping["event_source_arn"] == (
        "${aws_dynamodb_table.this[each.value.table].stream_arn}"
    )
    assert mapping["function_name"] == "${aws_lambda_function.this[each.value.function].arn}"
    assert mapping["batch_size"] == "${each.value.batch_size}"
    assert mapping["maximum_retry_attempts"] == "${each.value.maximum_retry_attempts}"
    assert mapping["bisect_batch_on_function_error"] == (
        "${each.value.bisect_batch_on_function_error}"
    )
    assert mapping["function_response_types"] == "${each.value.function_response_types}"
    assert mapping["parallelization_factor"] == "${each.value.parallelization_factor}"
    assert mapping["destination_config"] == [
        {"on_failure": [{"destination_arn": "${aws_sqs_queue.stream_failures.arn}"}]}
    ]
    (criteria,) = mapping["filter_criteria"]
    (dynamic,) = dynamic_blocks(criteria, "filter")
    assert dynamic["for_each"] == "${each.value.filters}"
    assert dynamic["content"] == [{"pattern": "${jsonencode(filter.value)}"}]
    assert evaluated.local("streams") == {s["name"]: s for s in STACK["streams"]}
    for stream in STACK["streams"]:
        assert 1 <= stream["parallelization_factor"] <= 10, stream["name"]  # Lambda's range
        assert stream["bisect_batch_on_function_error"] is True
        assert stream["function_response_types"] == ["ReportBatchItemFailures"]
        assert STACK["tables"][stream["table"]]["stream_view_type"], stream["name"]


def test_only_inserted_messages_invoke_the_broadcaster_and_the_chat_lists():
    """The filters admit INSERTs whose kind is the code's MESSAGE_KIND (chat lists: of chats
    only), and member items inserted or removed to chat_events; nothing else."""
    filters = {s["function"]: s["filters"] for s in STACK["streams"]}
    assert filters["broadcaster"] == [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": [MESSAGE_KIND]}}}}
    ]
    assert filters["chat_inbox"] == [
        {
            "eventName": ["INSERT"],
            "dynamodb": {
                "NewImage": {"kind": {"S": [MESSAGE_KIND]}, "chatId": {"S": [{"exists": True}]}}
            },
        }
    ]
    assert filters["chat_events"] == [
        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": [MEMBER_KIND]}}}},
        {"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"kind": {"S": [MEMBER_KIND]}}}},
    ]


def test_the_broadcasters_mapping_keeps_its_address():
    """A moved block keeps an existing deployment's mapping instead of replacing it."""
    text = (TF_DIR / "stream.tf").read_text(encoding="utf-8")
    assert "from = aws_lambda_event_source_mapping.stream\n" in text
    assert 'to   = aws_lambda_event_source_mapping.stream["broadcast"]' in text
    assert STACK["streams"][0]["name"] == "broadcast"


def test_lambda_runtime_is_the_python_the_package_is_built_for(evaluated):
    """python3.12 (or newer) in Terraform, and the package builds for that very version."""
    runtime = evaluated.local("lambda_runtime")
    assert runtime == f"python{DEFAULT_PYTHON_VERSION}"
    major, minor = (int(p) for p in DEFAULT_PYTHON_VERSION.split("."))
    assert (major, minor) >= (3, 12)


@pytest.mark.parametrize("stage", ["qa", "Dev", ""])
def test_a_stage_other_than_dev_staging_prod_is_refused(tmp_path, stage):
    """var.stage is validated: terraform refuses the run, naming the allowed stages."""
    refused = evaluate(tmp_path, variables={"stage": stage})
    assert isinstance(refused, str)
    assert "stage must be one of dev, staging, prod" in refused


def test_staging_and_prod_are_accepted_and_name_the_resources(tmp_path):
    """A valid stage flows into every name."""
    evaluated = evaluate(tmp_path, variables={"stage": "staging"})
    assert not isinstance(evaluated, str), evaluated
    assert evaluated.local("tables")["users"]["name"] == "chatstack-staging-users"
    assert evaluated.local("deletion_protection") is False
    prod = evaluate(tmp_path / "prod", variables={"stage": "prod"})
    assert not isinstance(prod, str), prod
    assert prod.local("deletion_protection") is True
