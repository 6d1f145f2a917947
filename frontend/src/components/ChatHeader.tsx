import { useEffect, useMemo, useState } from "react";
import { ApiError, type Api } from "../api";
import type { ChatDetail, ChatSummary } from "../chat/types";
import { PeoplePicker } from "./PeoplePicker";

interface Props {
  api: Api;
  chatId: string;
  /** The chat as the list knows it (undefined until the server has said). */
  chat: ChatSummary | undefined;
  name: string;
  /** A direct chat's peer: "online" or "last seen …" (contract v3). */
  presence?: string;
  onChanged: (chat: ChatSummary) => void;
  onLeft: () => void;
}

function problemOf(error: unknown): string {
  return error instanceof ApiError ? error.message : "Something went wrong. Try again.";
}

/** A chat's header: its name and people; a group's "Add people" and "Leave group". */
export function ChatHeader({ api, chatId, chat, name, presence = "", onChanged, onLeft }: Props) {
  const [detail, setDetail] = useState<ChatDetail | null>(null);
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const group = (chat ?? detail)?.type === "group";

  useEffect(() => {
    let current = true;
    api.chat(chatId).then(
      (found) => {
        if (!current) return;
        setDetail(found);
        if (found.presence) onChanged(found); // the peer's presence, for the header and the list
      },
      (e: unknown) => current && setError(problemOf(e)),
    );
    return () => {
      current = false;
    };
  }, [api, chatId]);

  const inChat = useMemo(() => new Set((detail?.participants ?? []).map((p) => p.userId)), [detail]);

  async function add(userId: string) {
    setBusy(true);
    setError(null);
    try {
      const next = await api.addParticipants(chatId, [userId]);
      setDetail(next);
      onChanged(next);
    } catch (e) {
      setError(problemOf(e));
    } finally {
      setBusy(false);
    }
  }

  async function leave() {
    setBusy(true);
    setError(null);
    try {
      await api.leaveChat(chatId);
      onLeft();
    } catch (e) {
      setError(problemOf(e));
      setBusy(false);
    }
  }

  return (
    <div className="room-header chat-header">
      <div className="chat-title">
        <h1 id="room-title">{name}</h1>
        {detail && (
          <p className="hint chat-people" aria-label="People in this chat">
            {group ? detail.participants.map((p) => p.username).join(", ") : presence || "Direct chat"}
          </p>
        )}
      </div>
      {group && (
        <div className="chat-actions">
          <button
            type="button"
            className="button ghost small"
            aria-expanded={adding}
            onClick={() => setAdding((open) => !open)}
          >
            Add people
          </button>
          <button type="button" className="button ghost small" disabled={busy} onClick={() => void leave()}>
            Leave group
          </button>
        </div>
      )}
      {adding && group && (
        <div className="add-people">
          <PeoplePicker
            api={api}
            label="Add people"
            exclude={inChat}
            actions={(person) => (
              <button
                type="button"
                className="button ghost small"
                disabled={busy}
                aria-label={`Add ${person.username}`}
                onClick={() => void add(person.userId)}
              >
                Add
              </button>
            )}
          />
        </div>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
