"""Everything around the users: the target, the run id, the delivery books, the verdict.

One :class:`Harness` per Locust process. On the master (or the only process) it resolves the
target — starting a local stage when none is named — picks the scenario's user classes, and at
the end drains, closes the delivery books, prints the verdict table and sets the exit code. On a
worker it only keeps its :class:`~loadtests.metrics.Receipts` and reports them to the master:
every stats report carries the delta (``report_to_master`` → ``worker_report``), and when the
master closes the books each worker answers with its last one (``runner.send_message``).
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from locust.clients import HttpSession
from locust.env import Environment
from locust.event import Events
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import StatsEntry
from requests import RequestException

from loadtests import options as chatstack_options
from loadtests.accounts import Account, fresh_account, read_users_file
from loadtests.chat_client import ChatClient, ClientContext
from loadtests.limits import fit_users, open_files, raise_to_hard_limit
from loadtests.metrics import Ledger, Receipts
from loadtests.stage import LocalStage, Target, resolve_target, ws_urls
from loadtests.thresholds import (
    Measured,
    Thresholds,
    chat_setup_check,
    judge,
    passed,
    render_table,
)

__all__ = ["DEFAULT_SCENARIO", "Harness", "current", "install"]

logger = logging.getLogger("chatstack")

DEFAULT_SCENARIO = "fanout"
MSG_PAUSE, MSG_CLOSE, MSG_BOOKS = "chatstack:pause", "chatstack:close", "chatstack:books"
REPORT_KEY = "chatstack"
BOOKS_TIMEOUT_S = 15.0
SETTLE_INTERVAL_S = 1.0
REPORT_LAG_S = {"local": 1.0, "master": 7.0}  # how late receipts reach the judging process
MEASURED_TYPES = ("connect", "joinRoom", "leaveRoom", "sendMessage", "broadcast", "close", "frame")

_current: Harness | None = None


class ChatSetupError(Exception):
    """A chat of the chats scenario could not be set up as the contract says."""


_installed = False


def current() -> Harness:
    if _current is None:
        raise RuntimeError("loadtests.harness.install(events) was not called by the locustfile")
    return _current


class Harness:
    """One process's view of the run."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        runner = environment.runner
        self.role = (
            "master"
            if isinstance(runner, MasterRunner)
            else "worker"
            if isinstance(runner, WorkerRunner)
            else "local"
        )
        self.stage: LocalStage | None = None
        self.target: Target | None = None
        self.run_id = ""
        self.node = "0"
        self.receipts = Receipts()
        self.ledger = Ledger()
        self.ctx: ClientContext | None = None
        self.paused = False  # no sending: draining at the end, or between two ramp steps
        self.ready_users = 0  # users of this process that connected and joined at least once
        self._ready_by_worker: dict[str, int] = {}
        self.gate: Semaphore | None = None
        self.books_closed = False
        self.started_at = 0.0
        self.measured_from = 0.0  # --reset-stats: when spawning completed
        self.stopped_at = 0.0
        self.summary: dict[str, Any] | None = None
        self._closing = False
        self._accounts: list[Account] | None = None
        self._account_seq = itertools.count()
        self._room_seq = itertools.count()
        self._url_seq = itertools.count()
        self._books_pending: set[str] = set()
        self._books_in = Event()

    @property
    def options(self) -> Any:
        return self.environment.parsed_options

    @property
    def judging(self) -> bool:
        return self.role != "worker"

    # -- set-up ---------------------------------------------------------------------------------

    def resolve(self) -> None:
        """Find the target (or start a local stage) and hand its URLs to the workers."""
        opts = self.options
        target = resolve_target(
            self.environment.host or "", opts.ws_url, opts.stage_file, opts.no_auth
        )
        if target is None:
            self.stage = LocalStage()
            target = self.stage.start()
        self.target = target
        self.environment.host = target.rest_url or None
        opts.ws_url = target.ws_url
        logger.info("chatstack target: %s %s (%s)", target.rest_url, target.ws_url, target.source)

    def planned_users(self) -> int:
        """The most users the run will hold at once: the ramp's largest step, or ``-u``."""
        planned = getattr(self.environment.shape_class, "planned_users", None)
        if planned is not None:
            return int(planned(self.options))
        return int(getattr(self.options, "num_users", 0) or 0)

    def check_open_files(self) -> None:
        """Say now, not after thousands of connections, when a process cannot hold its share of
        the users (its open-file limit); raises the soft limit where the hard one allows."""
        users = self.planned_users()
        processes = self.options.expect_workers if self.role == "master" else 1
        limits = open_files()
        logger.info(
            "chatstack: open files soft %d, hard %d: up to %d users per process; "
            "%d users planned over %d process(es)",
            limits.soft,
            limits.hard,
            limits.max_users,
            users,
            processes,
        )
        problem = fit_users(users, processes) if users else None
        if problem:
            logger.error("chatstack: %s", problem)
            raise SystemExit(2)

    def select_scenario(self) -> None:
        """Keep the user classes of the scenario named by ``--tags`` (default: fan-out), unless
        user classes were named on the command line."""
        opts = self.options
        if getattr(opts, "user_classes", None):
            return
        wanted = set(getattr(opts, "tags", None) or []) or {DEFAULT_SCENARIO}
        classes = self.environment.user_classes
        keep = [u for u in classes if _tags_of(u) & wanted]
        if keep:
            classes[:] = keep

    def begin(self) -> None:
        """A test starts (``test_start``): fresh run id and books."""
        opts = self.options
        if self.judging:
            opts.chatstack_run_id = uuid.uuid4().hex[:8]
        self.run_id = getattr(opts, "chatstack_run_id", "") or uuid.uuid4().hex[:8]
        runner = self.environment.runner
        self.node = str(getattr(runner, "worker_index", 0))
        self.receipts = Receipts(opts.delivery_grace)
        self.ledger = Ledger(opts.delivery_grace)
        self.ctx = ClientContext(
            fire=self.environment.events.request.fire,
            receipts=self.receipts,
            run_id=self.run_id,
            node=self.node,
            ack_timeout=opts.ack_timeout,
            connect_timeout=opts.connect_timeout,
            message_bytes=opts.message_bytes,
        )
        self.paused = self.books_closed = self._closing = False
        self.ready_users = 0
        self._ready_by_worker = {}
        limit = opts.connect_concurrency
        self.gate = Semaphore(limit) if limit > 0 else None
        if self.judging:
            _configure_users(self.environment)
        self.summary = None
        self.started_at = self.measured_from = time.time()
        if self.role == "local":
            gevent.spawn(self._settle_locally)

    def _settle_locally(self) -> None:
        receipts = self.receipts
        while not self.books_closed and receipts is self.receipts:
            receipts.settle(time.time())
            self.ledger.add(self.node, receipts.take())
            gevent.sleep(SETTLE_INTERVAL_S)

    # -- what users call ------------------------------------------------------------------------

    @property
    def ready_total(self) -> int:
        """Users that connected and joined at least once: this process's, or (on the master)
        every worker's as last reported."""
        if self.role == "master":
            return sum(self._ready_by_worker.values())
        return self.ready_users

    @property
    def all_ready(self) -> bool:
        """Every user this process (the master: the whole run) is to run has connected once."""
        target = self.environment.runner.target_user_count
        return bool(target) and self.ready_total >= target

    @property
    def may_send(self) -> bool:
        """Not paused, nor holding until everyone is connected (``--hold-until-connected``)."""
        return not self.paused and (self.all_ready or not self.options.hold_until_connected)

    def user_ready(self) -> None:
        """One more user of this process is connected and in its rooms for the first time."""
        self.ready_users += 1
        if self.ready_users == self.environment.runner.target_user_count:
            logger.info("chatstack: all %d users of this process are connected", self.ready_users)
            # The users' objects live as long as the run: out of the collector's generations,
            # so its full collections do not re-trace 10,000s of connections (0.5 s pauses).
            gc.freeze()

    def pause(self, paused: bool) -> None:
        """Stop (or resume) sending in every process."""
        self.paused = paused
        if self.role == "master":
            self.environment.runner.send_message(MSG_PAUSE, {"paused": paused})

    def room(self, scenario: str) -> str:
        return f"{scenario}-{self.run_id}"

    def spread_room(self, scenario: str, rooms: int) -> str:
        """The next room of ``rooms``, round-robin (offset per process)."""
        index = (int(self.node) + next(self._room_seq)) % max(1, rooms)
        return f"{scenario}-{self.run_id}-{index}"

    def sign_in(self, user: Any) -> str | None:
        """A token for ``user``: from the users file, or by signing up and logging in."""
        opts = self.options
        if opts.no_auth:
            return "load-test"
        account = self._next_account()
        if opts.reuse_tokens and account is not None and account.token:
            return account.token
        base_url = self.environment.host or (self.target.rest_url if self.target else "")
        rest = HttpSession(
            base_url=base_url, request_event=self.environment.events.request, user=user
        )
        try:
            if account is None:
                account = fresh_account()
                with rest.post(
                    "/signup", json=account.signup_body(), name="/signup", catch_response=True
                ) as reply:
                    if reply.status_code != 201:
                        reply.failure(f"HTTP {reply.status_code}: {reply.text[:200]}")
                        return None
            with rest.post(
                "/login", json=account.login_body(), name="/login", catch_response=True
            ) as reply:
                if reply.status_code != 200:
                    reply.failure(f"HTTP {reply.status_code}: {reply.text[:200]}")
                    return None
                return str(reply.json()["token"])
        except (RequestException, ValueError, KeyError, TypeError) as exc:  # bad URL or body
            self.environment.events.request.fire(
                request_type="POST",
                name="sign-in",
                response_time=0,
                response_length=0,
                exception=exc,
                context={},
            )
            return None
        finally:
            rest.close()

    def create_chat(self, user: Any, token: str, body: dict[str, Any]) -> str | None:
        """``POST /chats`` as the holder of ``token`` (contract v2): the chat's id, or None
        (the failure is reported as a failed ``POST /chats``)."""
        base_url = self.environment.host or (self.target.rest_url if self.target else "")
        rest = HttpSession(
            base_url=base_url, request_event=self.environment.events.request, user=user
        )
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with rest.post(
                "/chats", json=body, headers=headers, name="/chats", catch_response=True
            ) as reply:
                if reply.status_code not in (200, 201):
                    reply.failure(f"HTTP {reply.status_code}: {reply.text[:200]}")
                    return None
                return str(reply.json()["chatId"])
        except (RequestException, ValueError, KeyError, TypeError) as exc:
            self.environment.events.request.fire(
                request_type="POST",
                name="/chats",
                response_time=0,
                response_length=0,
                exception=exc,
                context={},
            )
            return None
        finally:
            rest.close()

    def report_chat(self, kind: str, ms: float, error: str | None) -> None:
        """One chat set up (``chat`` requests: a direct chat created by both sides at once
        must be one chat; a failure here fails the run's ``chat setup`` check)."""
        self.environment.events.request.fire(
            request_type="chat",
            name=kind,
            response_time=ms,
            response_length=0,
            exception=ChatSetupError(error) if error else None,
            context={},
        )

    def _next_account(self) -> Account | None:
        path = self.options.users_file
        if not path:
            return None
        if self._accounts is None:
            self._accounts = read_users_file(path)
        offset = int(self.node) * 7919
        return self._accounts[(offset + next(self._account_seq)) % len(self._accounts)]

    def new_client(self, token: str, scenario: str) -> ChatClient:
        """A client of the next WebSocket URL (round-robin when ``--ws-url`` names several)."""
        if self.ctx is None:
            raise RuntimeError("no test is running")
        urls = ws_urls(self.options.ws_url)
        url = urls[(int(self.node) + next(self._url_seq)) % len(urls)]
        return ChatClient(url, token, self.ctx, scenario)

    # -- the end of a test ----------------------------------------------------------------------

    def close_books(self, drain: float) -> None:
        """Stop sending, let deliveries in flight arrive for ``drain`` s, then close the books of
        every process at one instant."""
        if self.books_closed or self._closing or self.ctx is None:
            return
        self._closing = True
        runner = self.environment.runner
        if drain > 0:
            self.pause(True)
            logger.info("chatstack: sending stopped; draining deliveries for %g s", drain)
            gevent.sleep(drain)
        at = time.time()
        if self.role == "master":
            self._books_pending = {c.id for c in runner.clients.all if c.state != "missing"}
            self._books_in.clear()
            runner.send_message(MSG_CLOSE, {"at": at})
            if self._books_pending and not self._books_in.wait(timeout=BOOKS_TIMEOUT_S):
                logger.warning(
                    "chatstack: no final books from %d worker(s); their last seconds are missing",
                    len(self._books_pending),
                )
        else:
            self.receipts.close(at)
            self.ledger.add(self.node, self.receipts.take())
        self.ledger.close(at)
        self.stopped_at = at
        self.books_closed = True

    def on_books(self, node: str, delta: dict[str, Any]) -> None:
        self.ledger.add(node, delta)
        self._books_pending.discard(node)
        if not self._books_pending:
            self._books_in.set()

    def merged_stats(self) -> dict[str, StatsEntry]:
        """Locust's stats merged over names, by request type (``broadcast``, ``sendMessage``…)."""
        stats = self.environment.stats
        merged: dict[str, StatsEntry] = {}
        for (_name, method), entry in stats.entries.items():
            if method not in merged:
                merged[method] = StatsEntry(stats, "(all)", method)
            merged[method].extend(entry)
        return merged

    def measure(self) -> tuple[Measured, dict[str, dict[str, Any]]]:
        """The run's figures: thresholds' inputs, and per-request-type latencies."""
        stats = self.environment.stats
        types: dict[str, dict[str, Any]] = {}
        merged = self.merged_stats()
        for method, entry in sorted(merged.items()):
            types[method] = _describe(entry)
        send, broadcast = merged.get("sendMessage"), merged.get("broadcast")
        cutoff = None if self.books_closed else time.time() - REPORT_LAG_S.get(self.role, 7.0)
        if cutoff is not None:
            cutoff -= self.ledger.grace
        measured = Measured(
            send_p95_ms=_p95(send),
            sends=send.num_requests if send else 0,
            broadcast_p95_ms=_p95(broadcast),
            broadcasts=broadcast.num_requests if broadcast else 0,
            operations=stats.total.num_requests,
            failures=stats.total.num_failures,
            delivery=self.ledger.tally(cutoff, since=self.measured_from),
        )
        return measured, types

    def verdict(self) -> tuple[bool, str, dict[str, Any]]:
        """Checks, table and summary of the run so far (or of the whole run once it is over)."""
        measured, types = self.measure()
        limits = Thresholds.from_options(self.options)
        shape_judge = getattr(self.environment.shape_class, "judge", None)
        if shape_judge is not None:
            checks, notes, extra = shape_judge(self, limits)
        else:
            checks, notes, extra = judge(limits, measured), [], {}
        chats = self.merged_stats().get("chat")
        if chats is not None:  # the chats scenario: every chat set up, one per direct pair
            checks.append(chat_setup_check(chats.num_requests, chats.num_failures))
            notes.append(_chats_note(types, measured.delivery))
        delivery = measured.delivery
        seconds = max(0.0, (self.stopped_at or time.time()) - self.measured_from)
        notes = [
            f"messages {delivery.messages:,}, deliveries expected {delivery.expected:,}, "
            f"received {delivery.received:,}, missing {delivery.missing:,}, "
            f"duplicates {delivery.duplicates:,}",
            *notes,
        ]
        for name in ("connect", "sendMessage", "broadcast"):
            if name in types:
                row = types[name]
                notes.append(
                    f"{name}: {row['count']:,} ({row['failures']:,} failed), p50 {row['p50']} "
                    f"p95 {row['p95']} p99 {row['p99']} max {row['max']} ms, "
                    f"{row['count'] / seconds if seconds else 0:,.1f}/s"
                )
        ok = passed(checks)
        target = self.target
        title = f"chatstack verdict — run {self.run_id}, {seconds:.0f} s" + (
            f", {target.ws_url}" if target else ""
        )
        table = render_table(title, checks, notes)
        summary = {
            "run_id": self.run_id,
            "passed": ok,
            "target": {"rest_url": target.rest_url, "ws_url": target.ws_url} if target else None,
            "user_classes": [u.__name__ for u in self.environment.user_classes],
            "seconds": round(seconds, 3),
            "thresholds": vars(limits),
            "checks": [c.as_dict() for c in checks],
            "delivery": delivery.as_dict(),
            "requests": types,
            "errors": [
                {"type": e.method, "name": e.name, "error": str(e.error), "count": e.occurrences}
                for e in self.environment.stats.errors.values()
            ],
            **extra,
        }
        return ok, table, summary

    def conclude(self) -> None:
        """Print the verdict, write ``--summary-json``, set the process's exit code."""
        if not self.judging or self.ctx is None or self.summary is not None:
            return
        self.close_books(drain=0)
        ok, table, summary = self.verdict()
        print("\n" + table, flush=True)
        self.summary = summary
        if self.options.summary_json:
            path = Path(self.options.summary_json)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        self.environment.process_exit_code = 0 if ok else 1


def _chats_note(types: dict[str, dict[str, Any]], delivery: Any) -> str:
    rooms = [w for w in delivery.worst if str(w["room"]).startswith("chat:")]
    shown = ", ".join(f"{w['room']} missing {w['missing']}/{w['expected']}" for w in rooms[:3])
    return (
        f"chats: {types.get('chat', {}).get('count', 0):,} set up; "
        f"chats with a missing delivery: {delivery.rooms_with_missing:,} of {delivery.rooms:,}"
        + (f" (worst: {shown})" if shown else "")
    )


def _configure_users(environment: Environment) -> None:
    """Let user classes read the options (e.g. the fan-out senders' ``fixed_count``)."""
    for user_class in environment.user_classes:
        configure = getattr(user_class, "configure", None)
        if configure is not None:
            configure(environment.parsed_options)


def _tags_of(user_class: type) -> set[str]:
    tags: set[str] = set()
    for task in getattr(user_class, "tasks", []):
        tags |= set(getattr(task, "locust_tag_set", ()))
    return tags


def _p95(entry: StatsEntry | None) -> float | None:
    if entry is None or entry.num_requests == 0:
        return None
    return float(entry.get_response_time_percentile(0.95))


def _describe(entry: StatsEntry) -> dict[str, Any]:
    def pct(p: float) -> float | None:
        return float(entry.get_response_time_percentile(p)) if entry.num_requests else None

    return {
        "count": entry.num_requests,
        "failures": entry.num_failures,
        "p50": pct(0.5),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "max": round(entry.max_response_time, 1) if entry.num_requests else None,
        "avg": round(entry.avg_response_time, 2),
    }


def install(events: Events) -> None:
    """Wire the harness into Locust's events (once per process; later calls do nothing)."""
    global _installed
    if _installed:
        return
    _installed = True

    @events.init_command_line_parser.add_listener
    def _(parser: Any, **_kw: Any) -> None:
        chatstack_options.add_arguments(parser)

    @events.init.add_listener
    def _(environment: Environment, **_kw: Any) -> None:
        global _current
        harness = _current = Harness(environment)
        runner = environment.runner
        _configure_users(environment)
        if harness.role == "worker":
            raise_to_hard_limit()  # its share of the users comes later
            runner.register_message(MSG_PAUSE, lambda msg, **_: harness.pause(msg.data["paused"]))
            runner.register_message(MSG_CLOSE, lambda msg, **_: _send_books(msg))
            return
        harness.select_scenario()
        harness.check_open_files()
        harness.resolve()
        if harness.role == "master":
            runner.register_message(
                MSG_BOOKS, lambda msg, **_: harness.on_books(msg.node_id, msg.data)
            )
        if environment.web_ui is not None:
            _add_web_route(environment, harness)

    def _send_books(msg: Any) -> None:
        harness = current()
        harness.receipts.close(msg.data["at"])
        harness.books_closed = True
        harness.environment.runner.send_message(MSG_BOOKS, harness.receipts.take())

    @events.test_start.add_listener
    def _(environment: Environment, **_kw: Any) -> None:
        current().begin()

    @events.spawning_complete.add_listener
    def _(user_count: int, **_kw: Any) -> None:
        harness = current()
        if harness.judging and harness.environment.reset_stats:
            harness.measured_from = time.time()  # the stats restart now: so do the books

    @events.test_stopping.add_listener
    def _(environment: Environment, **_kw: Any) -> None:
        harness = current()
        if harness.judging:
            harness.close_books(drain=harness.options.drain)

    @events.report_to_master.add_listener
    def _(client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        harness = current()
        harness.receipts.settle(time.time())
        data[REPORT_KEY] = harness.receipts.take()
        data[REPORT_KEY]["ready"] = harness.ready_users

    @events.worker_report.add_listener
    def _(client_id: str, data: dict[str, Any], **_kw: Any) -> None:
        if REPORT_KEY in data:
            harness = current()
            harness.ledger.add(client_id, data[REPORT_KEY])
            harness._ready_by_worker[client_id] = data[REPORT_KEY].get("ready", 0)

    @events.quitting.add_listener
    def _(environment: Environment, **_kw: Any) -> None:
        current().conclude()

    @events.quit.add_listener
    def _(**_kw: Any) -> None:
        harness = current()
        if harness.stage is not None:
            harness.stage.stop()
            harness.stage = None


def _add_web_route(environment: Environment, harness: Harness) -> None:
    app = environment.web_ui.app

    @app.route("/chatstack")
    def chatstack_verdict() -> Any:
        if harness.ctx is None:
            return "no test has run yet\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
        _ok, table, _summary = harness.verdict()
        return table + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
