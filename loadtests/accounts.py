"""Load-test accounts: fresh ones, or pre-provisioned ones from a JSON-lines users file."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["PASSWORD", "Account", "fresh_account", "read_users_file", "write_users_file"]

PASSWORD = "load-test-password-1"


@dataclass(frozen=True)
class Account:
    email: str
    password: str = PASSWORD
    username: str = ""
    token: str = ""
    user_id: str = ""

    def signup_body(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password, "username": self.username}

    def login_body(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


def fresh_account(prefix: str = "load") -> Account:
    """An account with a unique e-mail, not yet signed up."""
    tag = uuid.uuid4().hex[:16]
    return Account(email=f"{prefix}-{tag}@example.test", username=f"{prefix}-{tag[:8]}")


def read_users_file(path: str | Path) -> list[Account]:
    """Accounts of a users file: one JSON object a line, ``email`` and ``password`` required."""
    accounts = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        try:
            accounts.append(
                Account(
                    email=data["email"],
                    password=data["password"],
                    username=data.get("username", ""),
                    token=data.get("token", ""),
                    user_id=data.get("userId", ""),
                )
            )
        except KeyError as exc:
            raise ValueError(f"{path}:{number}: no {exc.args[0]}") from None
    if not accounts:
        raise ValueError(f"{path}: no accounts")
    return accounts


def write_users_file(path: str | Path, accounts: list[Account]) -> None:
    lines = []
    for account in accounts:
        data = {k: v for k, v in asdict(account).items() if v and k != "user_id"}
        if account.user_id:
            data["userId"] = account.user_id
        lines.append(json.dumps(data))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
