"""moto keeps every stream record for ever; the embedded AWS trims all but the newest, and a
reader still reads on after its last record (reference_stack/local/embedded_aws.py)."""

from __future__ import annotations

import logging

import boto3
import pytest

from reference_stack.definition import load
from reference_stack.local.embedded_aws import _moto_tables, trim_stream_records


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _client(service, url):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_trimming_keeps_the_newest_records_and_a_reader_reads_on(moto_url):
    """After a trim, the shard starts at the oldest record kept; an iterator after the last
    record read still finds every later record, and memory holds only ``keep`` records."""
    dynamodb, streams = _client("dynamodb", moto_url), _client("dynamodbstreams", moto_url)
    created = dynamodb.create_table(**load().tables["messages"].create_table_kwargs("trimmed"))
    arn = created["TableDescription"]["LatestStreamArn"]
    for n in range(30):
        dynamodb.put_item(TableName="trimmed", Item={"pk": {"S": f"p{n}"}, "sk": {"S": "s"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    read = streams.get_records(ShardIterator=iterator, Limit=25)["Records"]
    last = read[-1]["dynamodb"]["SequenceNumber"]
    assert trim_stream_records(_moto_tables(), keep=10) >= 20
    after = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=last
    )["ShardIterator"]
    rest = streams.get_records(ShardIterator=after, Limit=100)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in rest] == [f"p{n}" for n in range(25, 30)]
    oldest = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    kept = streams.get_records(ShardIterator=oldest, Limit=100)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in kept] == [f"p{n}" for n in range(20, 30)]
