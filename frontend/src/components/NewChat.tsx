import { useId, useMemo, useState, type FormEvent } from "react";
import { ApiError, type Api } from "../api";
import type { ChatSummary, Person } from "../chat/types";
import { PeoplePicker } from "./PeoplePicker";

const MAX_GROUP_NAME = 64;

interface Props {
  api: Api;
  me: Person;
  /** A chat was created or found: list it and show it. */
  onOpened: (chat: ChatSummary) => void;
}

function problemOf(error: unknown): string {
  return error instanceof ApiError ? error.message : "Something went wrong. Try again.";
}

/**
 * Starting a conversation: find someone by username and message them (the one direct chat of
 * the pair, created or found), or pick several and a name for a group.
 */
export function NewChat({ api, me, onOpened }: Props) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [members, setMembers] = useState<Person[]>([]);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const exclude = useMemo(() => new Set([me.userId]), [me.userId]);

  async function run(action: () => Promise<ChatSummary>) {
    setBusy(true);
    setError(null);
    try {
      onOpened(await action());
      setMembers([]);
      setName("");
      setOpen(false);
    } catch (e) {
      setError(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  function toggle(person: Person) {
    setMembers((list) =>
      list.some((p) => p.userId === person.userId)
        ? list.filter((p) => p.userId !== person.userId)
        : [...list, person],
    );
  }

  function createGroup(event: FormEvent) {
    event.preventDefault();
    const groupName = name.trim();
    if (groupName.length === 0) {
      setError("Give the group a name.");
      return;
    }
    if (members.length === 0) {
      setError("Add at least one person to the group.");
      return;
    }
    void run(() => api.createGroup(groupName, members.map((p) => p.userId)));
  }

  if (!open) {
    return (
      <div className="new-chat">
        <button type="button" className="button primary small wide" onClick={() => setOpen(true)}>
          New chat
        </button>
      </div>
    );
  }
  return (
    <section className="new-chat" aria-labelledby={`${id}-title`}>
      <div className="new-chat-head">
        <h2 id={`${id}-title`} className="sidebar-title">
          New chat
        </h2>
        <button type="button" className="link small" onClick={() => setOpen(false)}>
          Close
        </button>
      </div>
      <PeoplePicker
        api={api}
        label="Find people"
        exclude={exclude}
        actions={(person) => {
          const picked = members.some((p) => p.userId === person.userId);
          return (
            <>
              <button
                type="button"
                className="button ghost small"
                disabled={busy}
                aria-label={`Message ${person.username}`}
                onClick={() => void run(() => api.directChat(person.userId))}
              >
                Message
              </button>
              <button
                type="button"
                className="button ghost small"
                aria-pressed={picked}
                aria-label={`Add ${person.username} to the group`}
                onClick={() => toggle(person)}
              >
                {picked ? "Added" : "+ Group"}
              </button>
            </>
          );
        }}
      />
      {members.length > 0 && (
        <form className="group-form" onSubmit={createGroup} noValidate>
          <p className="hint">
            Group with you and {members.map((p) => p.username).join(", ")}
          </p>
          <label htmlFor={`${id}-name`}>Group name</label>
          <div className="join-row">
            <input
              id={`${id}-name`}
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={MAX_GROUP_NAME}
              autoComplete="off"
            />
            <button type="submit" className="button primary small" disabled={busy}>
              Create group
            </button>
          </div>
        </form>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
