"""Sharded fan-out for large rooms: the broadcaster hands shards off, the fan-out function
delivers each one exactly once and reports its own failures.

- The broadcaster (``ShardRouter``) plans shards above the threshold and dispatches each one
  asynchronously; a shard that cannot be dispatched is delivered by the broadcaster itself.
- ``deliver_shard`` claims the shard (``ShardClaims``: a duplicate or repeated invocation finds
  it done and posts nothing), posts to its recipients, removes the gone ones, and hands the
  recipients it could not reach to a retry shard of the next attempt — only those, so a
  delivered recipient is never posted twice. After the last attempt each one is logged as an
  undelivered message (an ERROR line per recipient, as the broadcaster does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from lambdas.contract.frames import Message
from lambdas.domain.dispatch import Dispatcher, DispatchFailed
from lambdas.domain.fanout import DeliveryReport, Poster, log_undelivered, remove_gone
from lambdas.domain.shard_claims import ShardBusy, ShardClaims
from lambdas.domain.shards import Shard, plan

__all__ = ["ShardRouter", "deliver_shard"]

log = logging.getLogger("chatstack.fanout")


def _dispatched(dispatcher: Dispatcher | None, shard: Shard) -> bool:
    """Hand ``shard`` to the fan-out function; False when it must be delivered here."""
    if dispatcher is None:
        return False
    try:
        dispatcher.dispatch(shard.to_event())
    except DispatchFailed:
        log.warning("dispatching shard %s failed: delivering it here", shard.key)
        return False
    return True


def deliver_shard(
    shard: Shard,
    poster: Poster,
    claims: ShardClaims,
    remove_connection: Callable[[str, str], bool | None],
    dispatcher: Dispatcher | None,
    max_attempts: int,
    lease_seconds: float,
    deadline: float | None = None,
) -> DeliveryReport:
    """Deliver one shard, at most once per recipient and attempt; retries end at ``deadline``.

    The report counts this shard's recipients, and those of a retry shard delivered here.

    Raises:
        ShardBusy: another invocation is delivering this shard (the caller is retried later).
    """
    if not claims.claim(shard, lease_seconds):
        log.info("shard %s of %s already delivered", shard.key, shard.message_id)
        return DeliveryReport(skipped=1)
    outcome = poster.deliver(shard.connection_ids, shard.data.encode("utf-8"), deadline)
    report = DeliveryReport(delivered=len(outcome.delivered), gone=len(outcome.gone))
    remove_gone(outcome.gone, shard.room_id, remove_connection)
    if outcome.failed and shard.attempt < max_attempts:
        retry = shard.retry(outcome.failed)
        if _dispatched(dispatcher, retry):
            report.retried = len(outcome.failed)
        else:
            report.add(
                deliver_shard(
                    retry,
                    poster,
                    claims,
                    remove_connection,
                    None,
                    max_attempts,
                    lease_seconds,
                    deadline,
                )
            )
    else:
        report.failed = len(outcome.failed)
        log_undelivered(
            outcome.failed, message_id=shard.message_id, shard=shard.key, attempt=shard.attempt
        )
    claims.finish(shard)
    return report


@dataclass
class ShardRouter:
    """The broadcaster's side: above ``threshold`` recipients, hand shards to ``dispatcher``."""

    dispatcher: Dispatcher
    claims: ShardClaims
    remove: Callable[[str, str], bool | None]  # removes a gone connection from the room
    threshold: int
    size: int
    max_attempts: int
    lease_seconds: Callable[[], float]

    def __call__(
        self,
        message: Message,
        recipients: list[str],
        data: bytes,
        poster: Poster,
        deadline: float | None = None,
    ) -> DeliveryReport | None:
        """Hand off ``message``'s shards; None when the room is small enough to post inline."""
        shards = plan(
            message.message_id,
            message.room_id,
            data.decode("utf-8"),
            recipients,
            self.threshold,
            self.size,
        )
        if not shards:
            return None
        report = DeliveryReport()
        for shard in shards:
            if _dispatched(self.dispatcher, shard):
                report.shards += 1
                continue
            try:
                report.add(
                    deliver_shard(
                        shard,
                        poster,
                        self.claims,
                        self.remove,
                        self.dispatcher,
                        self.max_attempts,
                        self.lease_seconds(),
                        deadline,
                    )
                )
            except ShardBusy:  # the dispatch did go through: the fan-out function has it
                report.shards += 1
        return report
