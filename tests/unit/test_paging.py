"""A query page with one item more than asked, read over DynamoDB's own pages."""

from lambdas.domain.paging import query_one_more


class _Pages:
    """A client whose Query answers at most ``size`` items a call, from ``total`` items."""

    def __init__(self, total: int, size: int) -> None:
        self.items = [{"n": i} for i in range(total)]
        self.size, self.calls = size, []

    def query(self, **query):
        self.calls.append(dict(query))
        start = query.get("ExclusiveStartKey", {"at": 0})["at"]
        end = min(start + min(self.size, query["Limit"]), len(self.items))
        page = {"Items": self.items[start:end]}
        if end < len(self.items):
            page["LastEvaluatedKey"] = {"at": end}
        return page


def test_it_reads_across_short_pages_until_one_item_more_than_asked() -> None:
    """Small DynamoDB pages are followed until limit + 1 items are in, and no further."""
    client = _Pages(total=20, size=3)
    items = query_one_more(client, {"TableName": "t"}, limit=7)
    assert [i["n"] for i in items] == list(range(8))
    assert [c["Limit"] for c in client.calls] == [8, 5, 2]


def test_fewer_items_than_asked_end_at_the_last_page() -> None:
    """When the query runs out, every item is returned and nothing says there is more."""
    client = _Pages(total=4, size=3)
    query = {"TableName": "t"}
    assert [i["n"] for i in query_one_more(client, query, limit=10)] == [0, 1, 2, 3]
    assert query == {"TableName": "t"}, "the caller's query is left as it was"
