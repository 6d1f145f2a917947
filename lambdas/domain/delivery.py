"""Delivery through the API Gateway Management API (``@connections``) with boto3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.domain.fanout import ConnectionGone, DeliveryFailed, OneAtATime

__all__ = ["ManagementApiPoster"]


class ManagementApiPoster(OneAtATime):
    """A ``Poster`` over a boto3 ``apigatewaymanagementapi`` client, one post at a time."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._gone = client.exceptions.GoneException

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except self._gone:  # a modeled ClientError: it must be caught before ClientError
            raise ConnectionGone(connection_id) from None
        except (ClientError, BotoCoreError) as exc:
            raise DeliveryFailed(f"{connection_id}: {exc}") from exc
