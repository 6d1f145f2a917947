"""Sign up load-test accounts ahead of a run and write them as a users file (JSON lines).

Signing up costs a bcrypt hash on the stage (60-250 ms of its CPU each), so a large run takes
its users from a file instead (``locust ... --users-file users.jsonl``); with ``--tokens`` each
line also carries a token from ``POST /login`` (valid 24 h by default), which
``--reuse-tokens`` uses to skip the login as well.

    python -m loadtests.provision --stage stage.json --count 200 --out users.jsonl --tokens
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

from loadtests.accounts import Account, fresh_account, write_users_file
from loadtests.stage import read_stage_file

__all__ = ["main", "provision"]


async def _one(
    session: aiohttp.ClientSession,
    rest_url: str,
    prefix: str,
    tokens: bool,
    gate: asyncio.Semaphore,
) -> Account:
    account = fresh_account(prefix)
    async with gate:
        async with session.post(f"{rest_url}/signup", json=account.signup_body()) as reply:
            if reply.status != 201:
                raise RuntimeError(f"signup: HTTP {reply.status}: {(await reply.text())[:200]}")
            user_id = (await reply.json())["userId"]
        token = ""
        if tokens:
            async with session.post(f"{rest_url}/login", json=account.login_body()) as reply:
                if reply.status != 200:
                    raise RuntimeError(f"login: HTTP {reply.status}: {(await reply.text())[:200]}")
                token = (await reply.json())["token"]
    return Account(account.email, account.password, account.username, token, user_id)


async def provision(
    rest_url: str, count: int, *, tokens: bool = False, concurrency: int = 4, prefix: str = "load"
) -> list[Account]:
    """Sign up ``count`` fresh accounts (log them in with ``tokens``), ``concurrency`` at once."""
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        jobs = [_one(session, rest_url.rstrip("/"), prefix, tokens, gate) for _ in range(count)]
        return list(await asyncio.gather(*jobs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stage", type=Path, help="a stage file (local, or terraform output -json)")
    where.add_argument("--rest-url", help="the stage's REST URL")
    parser.add_argument("--count", type=int, required=True, help="how many accounts")
    parser.add_argument("--out", type=Path, required=True, help="the users file to write")
    parser.add_argument("--tokens", action="store_true", help="also log in; store the tokens")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--prefix", default="load", help="e-mail prefix")
    args = parser.parse_args(argv)
    rest_url = args.rest_url or read_stage_file(args.stage).rest_url
    started = time.monotonic()
    accounts = asyncio.run(
        provision(
            rest_url,
            args.count,
            tokens=args.tokens,
            concurrency=args.concurrency,
            prefix=args.prefix,
        )
    )
    write_users_file(args.out, accounts)
    seconds = time.monotonic() - started
    print(f"{len(accounts)} accounts in {seconds:.1f} s → {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
