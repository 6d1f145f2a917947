"""CPU per delivery of the two @connections delivery paths, measured on the delivering side.

Runs a trivial @connections server (200 to every POST) in a child process, then delivers one
frame to N connection ids through each path and divides the process CPU time by N:

    python -m benchmarks.delivery_cpu [--deliveries 5000] [--json OUT]

- ``boto3``: ``ManagementApiPoster`` — botocore's ``post_to_connection``, one after another.
- ``signed``: ``SignedPoster`` — botocore's SigV4 signer over keep-alive HTTP/1.1, 16 in flight.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.credentials import Credentials

from lambdas.domain.delivery import ManagementApiPoster
from lambdas.domain.signed_delivery import SignedPoster

SERVER = """
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(status=200)
app = web.Application()
app.router.add_post("/dev/@connections/{id}", ok)
web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None)
"""
FRAME = json.dumps(
    {
        "type": "message",
        "messageId": "m" * 36,
        "roomId": "bench",
        "userId": "u" * 36,
        "username": "ada",
        "message": "x" * 120,
        "timestamp": 1_795_600_800_000,
        "clientMessageId": None,
    }
).encode()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(poster: object, deliveries: int) -> dict[str, float]:
    """Deliver to ``deliveries`` ids in batches of 1,000; CPU and wall time per delivery."""
    ids = [f"L0SM9cOFvHc{i:05d}=" for i in range(deliveries)]
    poster.deliver(ids[:200], FRAME)  # warm up: connections, imports, caches
    cpu, wall = _cpu(), time.perf_counter()
    delivered = 0
    for start in range(0, deliveries, 1000):
        delivered += len(poster.deliver(ids[start : start + 1000], FRAME).delivered)
    cpu, wall = _cpu() - cpu, time.perf_counter() - wall
    assert delivered == deliveries, f"only {delivered} of {deliveries} delivered"
    return {"cpu_us_per_delivery": cpu / deliveries * 1e6, "deliveries_per_s": deliveries / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER.replace("{port}", str(port))])
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        endpoint = f"http://127.0.0.1:{port}/dev"
        client = boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=Config(retries={"total_max_attempts": 1}),
        )
        results = {
            "boto3": measure(ManagementApiPoster(client), args.deliveries),
            "signed": measure(
                SignedPoster(endpoint, "us-east-1", Credentials("bench", "bench")), args.deliveries
            ),
        }
    finally:
        server.terminate()
        server.wait(10)
    print(f"| path | CPU per delivery (µs) | deliveries/s |  ({args.deliveries} deliveries)")
    print("|---|---:|---:|")
    for path, figures in results.items():
        print(
            f"| {path} | {figures['cpu_us_per_delivery']:.0f} | {figures['deliveries_per_s']:.0f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
