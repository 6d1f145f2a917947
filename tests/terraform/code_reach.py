"""What each Lambda handler reaches in ``lambdas/``, found by reading the code (``ast``).

For a handler module this follows ``runtime.<accessor>()`` calls — directly, through a name bound
to one, through a domain function the store is passed to (or bound to with ``functools.partial``)
and those it passes the store on to, and through the handler's decorators —
into the store methods they use (the methods those call on ``self``, and the domain helpers they
pass ``self._db`` to), and reports:

- the ``CHATSTACK_*`` variables read: settings read directly, plus the store constructor
  arguments whose ``self._x`` attribute a used method reads;
- the DynamoDB calls per table, as IAM actions: ``self._db.put_item`` is ``dynamodb:PutItem``;
  a transaction needs the action of each item kind it writes (``Put`` → ``dynamodb:PutItem``).

It knows the shapes this code base uses, not Python at large: a new shape that it cannot follow
makes a function reach less, which the tests catch by comparing against stack.json both ways.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Reach", "reach", "settings_env_names"]

ROOT = Path(__file__).resolve().parents[2]

# boto3 DynamoDB client methods → the IAM actions they need (items of a transaction add theirs).
CALL_ACTIONS = {
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "query": {"dynamodb:Query"},
    "scan": {"dynamodb:Scan"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "batch_write_item": {"dynamodb:BatchWriteItem"},
    "transact_get_items": set(),
    "transact_write_items": set(),
}
PAGINATED_ACTIONS = {"query": {"dynamodb:Query"}, "scan": {"dynamodb:Scan"}}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


@dataclass
class Reach:
    """What one handler reaches."""

    env: set[str] = field(default_factory=set)
    actions_by_table_env: dict[str, set[str]] = field(default_factory=dict)
    boto3_calls: set[str] = field(default_factory=set)


def _module_path(module: str) -> Path:
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


@functools.cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_module_path(module).read_text(encoding="utf-8"))


def _functions(module: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in _tree(module).body if isinstance(n, ast.FunctionDef)}


@functools.cache
def _imports(module: str) -> dict[str, str]:
    """Names imported from ``lambdas.*`` modules, anywhere in ``module`` → where they come from."""
    found: dict[str, str] = {}
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lambdas"):
            for alias in node.names:
                found[alias.asname or alias.name] = node.module or ""
    return found


@functools.cache
def _settings_env() -> dict[str, str]:
    """``Settings`` attribute → the ``CHATSTACK_*`` variable ``Settings.from_env`` reads for it."""
    mapping: dict[str, str] = {}
    for node in ast.walk(_tree("lambdas.settings")):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "cls":
            for keyword in node.keywords:
                names = [
                    c.value
                    for c in ast.walk(keyword.value)
                    if isinstance(c, ast.Constant) and str(c.value).startswith("CHATSTACK_")
                ]
                if keyword.arg and names:
                    mapping[keyword.arg] = names[0]
    return mapping


def settings_env_names() -> set[str]:
    """Every ``CHATSTACK_*`` variable ``lambdas/settings.py`` reads."""
    return set(_settings_env().values())


def _is_call_of(node: ast.AST, owner: str | None, name: str | None = None) -> str | None:
    """``owner.name()`` (or ``name()`` when owner is None): the called name, else None."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if owner is None and isinstance(func, ast.Name):
        return func.id if name in (None, func.id) else None
    if (
        owner is not None
        and isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == owner
    ):
        return func.attr if name in (None, func.attr) else None
    return None


def _bound_names(function: ast.AST, owner: str | None) -> dict[str, str]:
    """Local names assigned from ``owner.accessor()`` → the accessor."""
    bound: dict[str, str] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, called = node.targets[0], _is_call_of(node.value, owner)
            if isinstance(target, ast.Name) and called:
                bound[target.id] = called
    return bound


@dataclass(frozen=True)
class _Accessor:
    """A ``runtime`` function: settings it reads itself, and the store it builds."""

    settings: frozenset[str]
    store: tuple[str, str] | None  # (module, class)
    store_args: tuple[str | None, ...]  # settings attribute passed at each position


@functools.cache
def _accessors() -> dict[str, _Accessor]:
    imports = _imports("lambdas.runtime")
    found: dict[str, _Accessor] = {}
    for name, function in _functions("lambdas.runtime").items():
        bound = {n for n, acc in _bound_names(function, None).items() if acc == "settings"}

        def setting(node: ast.AST, bound: set[str] = bound) -> str | None:
            if isinstance(node, ast.Attribute) and (
                _is_call_of(node.value, None, "settings")
                or (isinstance(node.value, ast.Name) and node.value.id in bound)
            ):
                return node.attr
            return None

        store, store_args, as_arguments = None, (), set()
        for node in ast.walk(function):
            called = _is_call_of(node, None)
            if called in imports and imports[called].startswith("lambdas.domain"):
                store = (imports[called], called)
                store_args = tuple(setting(arg) for arg in node.args)  # type: ignore[union-attr]
                as_arguments = {id(arg) for arg in node.args}  # type: ignore[union-attr]
        direct = {
            attr
            for node in ast.walk(function)
            if id(node) not in as_arguments and (attr := setting(node)) and attr != "require"
        }
        for node in ast.walk(function):  # s.require("users_table")
            if isinstance(node, ast.Call) and setting(node.func) == "require":
                direct |= {a.value for a in node.args if isinstance(a, ast.Constant)}
        found[name] = _Accessor(frozenset(direct), store, store_args)
    return found


@dataclass(frozen=True)
class _Method:
    self_attributes: frozenset[str]
    actions: frozenset[str]
    boto3_calls: frozenset[str]


def _class(module: str, name: str) -> ast.ClassDef:
    for node in _tree(module).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f"{module}.{name}")


def _init_params(cls: ast.ClassDef) -> dict[str, int]:
    """``self._x`` attribute → the position of the constructor argument assigned to it."""
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    position = {a.arg: i for i, a in enumerate(init.args.args[1:])}
    attributes: dict[str, int] = {}
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and node.value.id in position:
                    attributes[target.attr] = position[node.value.id]
    return attributes


def _is_self_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _client_calls(node: ast.Call, client: ast.AST) -> tuple[set[str], set[str]]:
    """(boto3 calls, IAM actions) of ``node`` if it calls a DynamoDB method on ``client``."""
    func = node.func
    if not isinstance(func, ast.Attribute) or ast.dump(func.value) != ast.dump(client):
        return set(), set()
    if func.attr in CALL_ACTIONS:
        return {func.attr}, set(CALL_ACTIONS[func.attr])
    if func.attr == "get_paginator":
        operation = node.args[0].value  # type: ignore[attr-defined]
        return {f"get_paginator({operation!r})"}, set(PAGINATED_ACTIONS[operation])
    return set(), set()


@functools.cache
def _helper(module: str, name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(boto3 calls, IAM actions) a domain helper makes on the client it takes first."""
    function = _functions(module)[name]
    client = ast.Name(id=function.args.args[0].arg, ctx=ast.Load())
    calls, actions = set(), set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            found_calls, found_actions = _client_calls(node, client)
            calls |= found_calls
            actions |= found_actions
    return frozenset(calls), frozenset(actions)


def _helper_calls(module: str, node: ast.AST) -> tuple[set[str], set[str]]:
    """``helper(self._db, …)`` with ``helper`` imported from ``lambdas.domain``: its calls."""
    imports = _imports(module)
    called = _is_call_of(node, None)
    if not called or not imports.get(called, "").startswith("lambdas.domain"):
        return set(), set()
    first = node.args[0] if node.args else None  # type: ignore[attr-defined]
    if not _is_self_attribute(first):
        return set(), set()
    calls, actions = _helper(imports[called], called)
    return set(calls), set(actions)


@functools.cache
def _methods(module: str, class_name: str) -> dict[str, _Method]:
    """Every method, with what it and the methods it calls on ``self`` use."""
    cls = _class(module, class_name)
    defs = {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}
    direct: dict[str, tuple[set[str], set[str], set[str], set[str]]] = {}
    for name, method in defs.items():
        attributes, calls, actions, boto3_calls = set(), set(), set(), set()
        for node in ast.walk(method):
            if _is_self_attribute(node):
                (calls if node.attr in defs else attributes).add(node.attr)  # type: ignore[union-attr]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                client = node.func.value
                if isinstance(client, ast.Attribute) and isinstance(client.value, ast.Name):
                    if client.value.id == "self" and node.func.attr in CALL_ACTIONS:
                        boto3_calls.add(node.func.attr)
                        actions |= CALL_ACTIONS[node.func.attr]
                    if client.value.id == "self" and node.func.attr == "get_paginator":
                        operation = node.args[0].value  # type: ignore[attr-defined]
                        boto3_calls.add(f"get_paginator({operation!r})")
                        actions |= PAGINATED_ACTIONS[operation]
            helper_calls, helper_actions = _helper_calls(module, node)
            boto3_calls |= helper_calls
            actions |= helper_actions
        if boto3_calls & {"transact_write_items", "transact_get_items"}:
            for node in ast.walk(method):
                if isinstance(node, ast.Dict):
                    for key in node.keys:
                        if isinstance(key, ast.Constant) and key.value in TRANSACTION_ITEM_ACTIONS:
                            actions.add(TRANSACTION_ITEM_ACTIONS[key.value])
        direct[name] = (attributes, calls, actions, boto3_calls)

    def closure(name: str, seen: frozenset[str] = frozenset()) -> _Method:
        attributes, calls, actions, boto3_calls = (set(x) for x in direct[name])
        for callee in calls - seen - {name}:
            inner = closure(callee, seen | {name})
            attributes |= inner.self_attributes
            actions |= inner.actions
            boto3_calls |= inner.boto3_calls
        return _Method(frozenset(attributes), frozenset(actions), frozenset(boto3_calls))

    return {name: closure(name) for name in defs}


def _domain_call(node: ast.AST, module: str) -> tuple[str, str, list[ast.expr]] | None:
    """A call, in ``module``, of a ``lambdas.domain`` function — or ``functools.partial`` of
    one: (its module, its name, the positional arguments passed)."""
    called = _is_call_of(node, None)
    args = list(node.args) if isinstance(node, ast.Call) else []
    if _is_call_of(node, "functools", "partial") and args and isinstance(args[0], ast.Name):
        called, args = args[0].id, args[1:]
    if called is None:
        return None
    home = _imports(module).get(called) or (module if called in _functions(module) else "")
    return (home, called, args) if home.startswith("lambdas.domain") else None


def _param_uses(module: str, name: str, position: int, depth: int = 2) -> Iterator[str]:
    """The attributes the domain function ``name`` uses on its parameter at ``position``: on
    the parameter itself, and in the domain functions it passes it on to (``depth`` levels)."""
    target = _functions(module).get(name)
    if target is None or position >= len(target.args.args):
        return
    param = target.args.args[position].arg
    for inner in ast.walk(target):
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == param
        ):
            yield inner.attr
        call = _domain_call(inner, module) if depth > 0 else None
        if call is not None:
            home, called, args = call
            for at, arg in enumerate(args):
                if isinstance(arg, ast.Name) and arg.id == param:
                    yield from _param_uses(home, called, at, depth - 1)


def _runtime_uses(module: str, function: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(accessor, attribute used on its result or None) for every ``runtime.x()`` reached."""
    bound = _bound_names(function, "runtime")
    for node in ast.walk(function):
        accessor = _is_call_of(node, "runtime")
        if accessor:
            yield accessor, None
        if isinstance(node, ast.Attribute):
            accessor = _is_call_of(node.value, "runtime")
            if isinstance(node.value, ast.Name):
                accessor = bound.get(node.value.id)
            if accessor:
                yield accessor, node.attr
        # A store passed to a domain function (or bound to one with functools.partial): the
        # attributes that function, and those it passes the store on to, use on it.
        call = _domain_call(node, module)
        if call is not None:
            home, called, args = call
            for position, arg in enumerate(args):
                accessor = _is_call_of(arg, "runtime")
                if isinstance(arg, ast.Name):
                    accessor = bound.get(arg.id)
                if accessor:
                    for attribute in _param_uses(home, called, position):
                        yield accessor, attribute


def _decorator_uses(module: str, function: ast.FunctionDef) -> Iterator[tuple[str, str | None]]:
    """What the decorators of ``function`` (from ``lambdas.*``) reach, with their helpers."""
    imports = _imports(module)
    for decorator in function.decorator_list:
        node = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(node, ast.Name) and node.id in imports:
            home = imports[node.id]
            helpers = _functions(home)
            pending, seen = [node.id], set()
            while pending:
                name = pending.pop()
                if name in seen or name not in helpers:
                    continue
                seen.add(name)
                yield from _runtime_uses(home, helpers[name])
                pending += [
                    c for c in map(lambda n: _is_call_of(n, None), ast.walk(helpers[name])) if c
                ]


def reach(handler_path: str) -> Reach:
    """What the handler ``lambdas.handlers.x.handler`` reaches."""
    module, _, name = handler_path.rpartition(".")
    function = _functions(module)[name]
    uses = set(_runtime_uses(module, function)) | set(_decorator_uses(module, function))
    accessors, env_of = _accessors(), _settings_env()
    result = Reach()
    settings: set[str] = set()
    for accessor, attribute in uses:
        info = accessors[accessor]
        settings |= info.settings
        if accessor == "settings" and attribute:
            settings.add(attribute)
        if info.store is None or attribute is None:
            continue
        methods = _methods(*info.store)
        if attribute not in methods:
            continue
        method, positions = methods[attribute], _init_params(_class(*info.store))
        for self_attribute in method.self_attributes:
            if self_attribute in positions and positions[self_attribute] < len(info.store_args):
                passed = info.store_args[positions[self_attribute]]
                if passed:
                    settings.add(passed)
        table_position = positions.get("_table", len(info.store_args))
        table = info.store_args[table_position] if table_position < len(info.store_args) else None
        if table and method.actions:
            actions = result.actions_by_table_env.setdefault(env_of[table], set())
            actions |= method.actions
        result.boto3_calls |= method.boto3_calls
    result.env = {env_of[s] for s in settings if s in env_of}
    return result
