"""The stack definition (reference_stack/definition.py, stack.json) against the code it wires."""

from __future__ import annotations

import inspect
import json
import types

import pytest

from lambdas.domain import keys
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.messages import MessageStore
from lambdas.domain.tokens import Identity
from lambdas.domain.users import User, UserStore
from lambdas.settings import Settings
from reference_stack.definition import STACK_FILE, Stream, load
from reference_stack.local.stage import stream_lanes

STACK = load()


def test_stack_json_is_valid_json_and_loads():
    """stack.json parses and yields the four tables, the functions and both route sets."""
    raw = json.loads(STACK_FILE.read_text(encoding="utf-8"))
    assert set(STACK.tables) == {"users", "messages", "connections", "chats"} == set(raw["tables"])
    assert set(STACK.functions) == set(raw["functions"])
    assert STACK.rest_routes
    assert STACK.websocket_routes


@pytest.mark.parametrize("name", sorted(STACK.functions))
def test_every_function_handler_imports_as_a_two_argument_callable(name):
    """Each handler path imports, as Lambda would, to a callable taking (event, context)."""
    function = STACK.functions[name]
    assert function.name == name
    handler = function.load_handler()
    assert callable(handler)
    assert list(inspect.signature(handler, follow_wrapped=False).parameters) == ["event", "context"]
    assert function.memory_mb >= 128
    assert function.timeout_s >= 1


def test_every_websocket_route_names_an_existing_function():
    """Each WebSocket route, including $connect/$disconnect/$default, has a function."""
    routes = STACK.websocket_routes
    assert {"$connect", "$disconnect", "$default"} <= set(routes)
    for route, function in routes.items():
        assert function in STACK.functions, route


def test_every_action_of_the_contract_is_routed():
    """The four contract actions are WebSocket routes of their own."""
    from lambdas.contract.validation import ACTIONS

    assert set(ACTIONS) <= set(STACK.websocket_routes)


def test_every_rest_route_names_an_existing_function():
    """Contract v1's POST /signup and /login, v2's chats, people and rooms, and the media
    profile's POST /upload-url each name a defined function; no (method, path) is routed twice."""
    seen = [(r["method"], r["path"]) for r in STACK.rest_routes]
    assert len(seen) == len(set(seen))
    assert {("POST", "/signup"), ("POST", "/login"), ("POST", "/upload-url")} <= set(seen)
    assert {("POST", "/chats"), ("GET", "/chats"), ("GET", "/chats/{chatId}/messages")} <= set(seen)
    for route in STACK.rest_routes:
        assert route["function"] in STACK.functions, route


def test_the_streams_feed_existing_functions_from_streamed_tables():
    """Each mapping names a table that has a stream and a function that exists; the
    broadcaster's is first (its name, "broadcast", is the Terraform address kept)."""
    assert STACK.streams[0].name == "broadcast"
    for stream in STACK.streams:
        assert stream.function in STACK.functions
        assert STACK.tables[stream.table].stream_view_type is not None
        assert "ReportBatchItemFailures" in stream.function_response_types
    by_function = {s.function: s for s in STACK.streams}
    assert by_function["broadcaster"].table == by_function["chat_inbox"].table == "messages"
    # chatRemoved needs what was removed: the old image.
    assert STACK.tables[by_function["chat_events"].table].stream_view_type == "NEW_AND_OLD_IMAGES"


def test_the_broadcaster_runs_lanes_and_a_factor_outside_lambdas_range_is_refused():
    """A flooded room must not hold up the others: the broadcaster's mapping runs more than one
    batch of a shard at once (lanes by partition key); Lambda allows 1 to 10."""
    by_function = {s.function: s for s in STACK.streams}
    assert by_function["broadcaster"].parallelization_factor > 1
    spec = {**vars(by_function["broadcaster"]), "parallelization_factor": 11}
    with pytest.raises(ValueError, match="1 to 10"):
        Stream(**spec)
    # The local stage gives a stream's function a sandbox per lane, so the lanes run at once.
    lanes = stream_lanes(STACK)
    assert lanes["broadcaster"] == by_function["broadcaster"].parallelization_factor
    assert lanes["chat_inbox"] == by_function["chat_inbox"].parallelization_factor


def test_create_table_kwargs_of_a_table_with_an_index():
    """The chats table: its inbox index on (inboxUser, inboxOrder), every attribute defined."""
    kwargs = STACK.tables["chats"].create_table_kwargs("t-chats")
    assert kwargs["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "inbox",
            "KeySchema": [
                {"AttributeName": "inboxUser", "KeyType": "HASH"},
                {"AttributeName": "inboxOrder", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    defined = {a["AttributeName"] for a in kwargs["AttributeDefinitions"]}
    assert defined == {"pk", "sk", "inboxUser", "inboxOrder"}
    assert kwargs["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.parametrize("name", sorted(STACK.functions))
def test_functions_get_the_table_variables_of_exactly_the_tables_they_may_use(name):
    """A function is told a table's name exactly when it has permissions on that table."""
    function = STACK.functions[name]
    table_vars = {t.env for t in STACK.tables.values()}
    granted = {STACK.tables[logical].env for logical in function.tables}
    assert {v for v in function.env if v in table_vars} == granted


def test_every_function_variable_is_read_by_settings():
    """Each CHATSTACK_* variable a function is given is one Settings reads."""
    read: set[str] = set()

    class Recorder(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recorder())
    for function in STACK.functions.values():
        assert set(function.env) <= read, function.name


def test_create_table_kwargs_for_a_streamed_table():
    """The messages table: pk/sk string keys, on-demand billing and a NEW_IMAGE stream."""
    kwargs = STACK.tables["messages"].create_table_kwargs("t-messages")
    assert kwargs == {
        "TableName": "t-messages",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }


@pytest.mark.parametrize("logical", ["users", "connections"])
def test_create_table_kwargs_without_a_stream(logical):
    """Tables without a stream get no StreamSpecification."""
    kwargs = STACK.tables[logical].create_table_kwargs(f"t-{logical}")
    assert kwargs["TableName"] == f"t-{logical}"
    assert "StreamSpecification" not in kwargs
    assert [k["AttributeName"] for k in kwargs["KeySchema"]] == ["pk", "sk"]


def test_table_name_joins_prefix_and_logical_name():
    """Physical table names are {prefix}-{logical}."""
    assert STACK.table_name("chatstack-dev", "users") == "chatstack-dev-users"


def test_table_environment_variables_match_settings():
    """The env variable of each table is the one Settings reads for it."""
    env = {t.env: f"name-{logical}" for logical, t in STACK.tables.items()}
    settings = Settings.from_env(env)
    assert settings.users_table == "name-users"
    assert settings.messages_table == "name-messages"
    assert settings.connections_table == "name-connections"
    assert settings.chats_table == "name-chats"


# --- key and TTL attribute names used by the domain code -----------------------------------------


class RecordingDynamo:
    """Just enough of a DynamoDB client to record every item and key the stores write."""

    exceptions = types.SimpleNamespace(
        TransactionCanceledException=type("TransactionCanceledException", (Exception,), {}),
        ConditionalCheckFailedException=type("ConditionalCheckFailedException", (Exception,), {}),
    )

    def __init__(self):
        self.items: list[tuple[str, dict]] = []
        self.keys: list[tuple[str, dict]] = []
        self.stored: dict[tuple[str, str], dict] = {}

    def _put(self, table, item):
        self.items.append((table, item))
        self.stored[(item["pk"]["S"], item["sk"]["S"])] = item

    def put_item(self, TableName, Item, **_):
        self._put(TableName, Item)
        return {}

    def transact_write_items(self, TransactItems):
        for entry in TransactItems:
            ((kind, spec),) = entry.items()
            if kind == "Put":
                self._put(spec["TableName"], spec["Item"])
            else:
                self.keys.append((spec["TableName"], spec["Key"]))
        return {}

    def batch_write_item(self, RequestItems):
        for table, requests in RequestItems.items():
            for request in requests:
                if "PutRequest" in request:
                    self._put(table, request["PutRequest"]["Item"])
                else:
                    self.keys.append((table, request["DeleteRequest"]["Key"]))
        return {"UnprocessedItems": {}}

    def update_item(self, TableName, Key, **_):
        """Records the key; returns the stored item as is (the update itself is not applied)."""
        self.keys.append((TableName, Key))
        return {"Attributes": self.stored[(Key["pk"]["S"], Key["sk"]["S"])]}

    def get_item(self, TableName, Key, **_):
        self.keys.append((TableName, Key))
        item = self.stored.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item else {}

    def delete_item(self, TableName, Key, **_):
        self.keys.append((TableName, Key))
        return {}


def key_names(logical):
    table = STACK.tables[logical]
    return {table.hash_key, table.range_key}


def test_domain_items_use_the_key_and_ttl_attributes_the_tables_define():
    """Every item and key the stores write uses the table's pk/sk and, where set, its ttl."""
    db = RecordingDynamo()
    UserStore(db, "users").create(User("u-1", "Ada@Example.com", "Ada"), "$2b$10$hash")
    connections = ConnectionStore(db, "connections", ttl_seconds=60, max_rooms=5)
    connections.add("c-1=", Identity("u-1", "Ada", "a@b.co"), now=1000.0)
    connections.join("c-1=", "dev")
    MessageStore(db, "messages", dedupe_ttl_seconds=60).put("dev", "u-1", "Ada", "hi", "cm-1")

    tables_written = {table for table, _ in db.items}
    assert tables_written == {"users", "messages", "connections"}
    for table, item in db.items:
        assert key_names(table) <= set(item), (table, item)
        assert all("S" in item[name] for name in key_names(table))
        if STACK.tables[table].ttl_attribute is None:
            assert "ttl" not in item, (table, item)
    for table, key in db.keys:
        assert set(key) == key_names(table), (table, key)

    claims = [i for t, i in db.items if t == "messages" and i["pk"]["S"].startswith("dedupe#")]
    assert len(claims) == 1
    assert int(claims[0][STACK.tables["messages"].ttl_attribute]["N"]) > 0
    connection_items = [i for t, i in db.items if t == "connections"]
    assert len(connection_items) == 3  # meta, general, dev
    assert all(
        i[STACK.tables["connections"].ttl_attribute] == {"N": "1060"} for i in connection_items
    )


@pytest.mark.parametrize(
    "key",
    [
        keys.user_key("u"),
        keys.email_key("A@B.co"),
        keys.connection_key("c="),
        keys.membership_key("r", "c="),
        keys.dedupe_key("u", "cm"),
    ],
    ids=["user", "email", "connection", "membership", "dedupe"],
)
def test_every_key_builder_uses_the_tables_key_attributes(key):
    """Each key builder yields exactly the pk/sk string pair all three tables define."""
    assert all(key_names(logical) == {"pk", "sk"} for logical in STACK.tables)
    assert set(key) == {"pk", "sk"}
    assert all(set(v) == {"S"} for v in key.values())


def test_email_key_ignores_letter_case():
    """The e-mail claim is the same for any letter case of the address."""
    assert keys.email_key("Ada@Example.COM") == keys.email_key("ada@example.com")


def test_message_sort_key_orders_by_time_then_id():
    """Sort keys are zero-padded so string order is time order."""
    early, late = keys.message_sort_key(999, "b"), keys.message_sort_key(1000, "a")
    assert early < late
    assert early == "0000000000999#b"


@pytest.mark.parametrize("logical", ["messages", "connections"])
def test_ttl_tables_name_the_ttl_attribute_the_code_writes(logical):
    """The tables whose items expire use the attribute name ``ttl``."""
    assert STACK.tables[logical].ttl_attribute == "ttl"
    assert STACK.tables["users"].ttl_attribute is None


def test_every_bucket_a_function_uses_is_defined_and_named_in_its_environment():
    """A function acting on a bucket gets the bucket's variable and S3 actions only."""
    for name, function in STACK.functions.items():
        for bucket, actions in function.buckets.items():
            assert bucket in STACK.buckets, name
            assert STACK.buckets[bucket].env in function.env, name
            assert actions and all(action.startswith("s3:") for action in actions), name


def test_the_media_bucket_is_configured_for_the_web_origin_alone():
    """CORS: the given origins with GET, HEAD and POST; uploads under uploads/."""
    media = STACK.buckets["media"]
    (rule,) = media.cors_configuration(["https://app.example"])["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://app.example"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]
    assert media.upload_prefix == "uploads/"
    assert media.bucket_name("chatstack-local") == "chatstack-local-media"
