import { useId, useRef, useState, type FormEvent } from "react";
import type { Api } from "../api";
import type { ConversationEntry } from "../chat/conversations";
import { DEFAULT_ROOM, roomNameError, type ChatSummary, type Person } from "../chat/types";
import { NewChat } from "./NewChat";
import { RoomDirectory } from "./RoomDirectory";

interface Props {
  /** Rooms and chats, most recent activity first. */
  conversations: ConversationEntry[];
  activeRoom: string;
  api: Api;
  me: Person;
  onSelect: (key: string) => void;
  onJoin: (roomId: string) => void;
  onLeave: (roomId: string) => void;
  onChatOpened: (chat: ChatSummary) => void;
}

const MARK: Record<ConversationEntry["kind"], string> = { room: "#", direct: "@", group: "◆" };

/** The conversation list (rooms and chats, newest activity first), a new chat, joining a room. */
export function Sidebar({ conversations, activeRoom, api, me, onSelect, onJoin, onLeave, onChatOpened }: Props) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  function join(event: FormEvent) {
    event.preventDefault();
    const room = name.trim().replace(/^#/, "");
    const problem = roomNameError(room);
    if (problem !== null) {
      setError(problem);
      input.current?.focus();
      return;
    }
    setError(null);
    setName("");
    onJoin(room);
  }

  return (
    <>
      <NewChat api={api} me={me} onOpened={onChatOpened} />
      <nav className="rooms-nav" aria-labelledby={`${id}-rooms`}>
        <h2 id={`${id}-rooms`} className="sidebar-title">
          Conversations
        </h2>
        <ul className="room-list">
          {conversations.map((entry, index) => {
            const active = entry.key === activeRoom;
            return (
              <li
                key={entry.key}
                className={[active ? "active" : "", entry.preview ? "with-preview" : ""].join(" ").trim() || undefined}
                data-kind={entry.kind}
              >
                <button
                  type="button"
                  className="room-button"
                  aria-current={active ? "page" : undefined}
                  aria-label={entry.unread > 0 && !active ? `${entry.title}, ${entry.unread} unread` : entry.title}
                  aria-describedby={entry.preview ? `${id}-preview-${index}` : undefined}
                  onClick={() => onSelect(entry.key)}
                >
                  <span className="hash" aria-hidden="true">
                    {MARK[entry.kind]}
                  </span>
                  <span className="room-name">{entry.title}</span>
                  {entry.online && (
                    <span className="online-dot" title="online">
                      <span className="sr-only">, online</span>
                    </span>
                  )}
                  {entry.unread > 0 && !active && (
                    <span className="badge" aria-hidden="true">
                      {entry.unread > 99 ? "99+" : entry.unread}
                    </span>
                  )}
                </button>
                {entry.preview && (
                  // Outside the button, so its name stays the title (and count); said as its
                  // description. Clicks go through it to the button.
                  <span className="room-preview" id={`${id}-preview-${index}`} aria-hidden="true">
                    {entry.preview}
                  </span>
                )}
                {entry.kind === "room" && entry.key !== DEFAULT_ROOM && (
                  <button
                    type="button"
                    className="leave"
                    aria-label={`Leave ${entry.key}`}
                    title={`Leave #${entry.key}`}
                    onClick={() => onLeave(entry.key)}
                  >
                    <span aria-hidden="true">×</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      </nav>
      <form className="join-form" onSubmit={join} noValidate>
        <label htmlFor={`${id}-join`}>Join a room</label>
        <div className="join-row">
          <input
            id={`${id}-join`}
            ref={input}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (error) setError(null);
            }}
            placeholder="room-name"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            maxLength={65}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-join-error` : `${id}-join-hint`}
          />
          <button type="submit" className="button primary small">
            Join
          </button>
        </div>
        {error ? (
          <p className="field-error" id={`${id}-join-error`} role="alert">
            {error}
          </p>
        ) : (
          <p className="hint" id={`${id}-join-hint`}>
            Letters, digits, “_” and “-”. A new name creates the room.
          </p>
        )}
      </form>
      <RoomDirectory api={api} prefix={name.trim().replace(/^#/, "")} joined={conversations} onJoin={onJoin} />
    </>
  );
}
