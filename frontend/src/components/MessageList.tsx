import { useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode } from "react";
import type { OutgoingMessage } from "../chat/outbox";
import type { ConnectionStatus, RoomState } from "../chat/state";
import type { ChatMessage } from "../chat/types";
import { avatarHue, formatDay, formatFull, formatTime, initials, sameDay } from "../format";

interface Props {
  room: RoomState;
  pending: readonly OutgoingMessage[];
  myUserId: string;
  status: ConnectionStatus;
  onLoadOlder: () => void;
  onRetry: (clientMessageId: string) => void;
  onDiscard: (clientMessageId: string) => void;
}

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 120;

function Message({ message, own, grouped }: { message: ChatMessage; own: boolean; grouped: boolean }) {
  const author = own ? "You" : message.username;
  return (
    <li
      className={`msg ${own ? "own" : "other"}${grouped ? " grouped" : ""}`}
      data-testid="message"
      data-message-id={message.messageId}
    >
      {!own && (
        <span
          className="avatar"
          style={{ "--hue": avatarHue(message.userId) } as CSSProperties}
          aria-hidden="true"
        >
          {grouped ? "" : initials(message.username)}
        </span>
      )}
      <div className="bubble" title={grouped ? formatFull(message.timestamp) : undefined}>
        <div className={grouped ? "meta sr-only" : "meta"}>
          <span className="author" data-testid="author">
            {author}
          </span>{" "}
          <time dateTime={new Date(message.timestamp).toISOString()} title={formatFull(message.timestamp)}>
            {formatTime(message.timestamp)}
          </time>
        </div>
        <p className="text" data-testid="message-text">
          {message.message}
        </p>
      </div>
    </li>
  );
}

function Pending({
  item,
  status,
  onRetry,
  onDiscard,
}: {
  item: OutgoingMessage;
  status: ConnectionStatus;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  const label =
    item.state === "failed" ? "Not sent" : status === "connected" ? "Sending…" : "Waiting for connection";
  return (
    <li className={`msg own pending ${item.state}`} data-testid="pending-message" data-state={item.state}>
      <div className="bubble">
        <div className="meta">
          <span className="author">You</span> <span className="pending-state">{label}</span>
        </div>
        <p className="text" data-testid="message-text">
          {item.text}
        </p>
        {item.state === "failed" && (
          <div className="pending-actions">
            {item.error && <span className="pending-error">{item.error}</span>}
            <button type="button" className="link small" onClick={onRetry}>
              Retry
            </button>
            <button type="button" className="link small" onClick={onDiscard}>
              Discard
            </button>
          </div>
        )}
      </div>
    </li>
  );
}

/** A room's messages, oldest first; scrolling near the top loads the page before. */
export function MessageList({ room, pending, myUserId, status, onLoadOlder, onRetry, onDiscard }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef<{ roomId: string; first?: string; last?: string; height: number; pending: number }>(
    null,
  );
  const [unseen, setUnseen] = useState(false);
  const canLoadOlder = room.historyLoaded && room.olderCursor !== null && !room.loadingOlder;

  function scrollToBottom() {
    const el = scroller.current;
    if (el === null) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(false);
  }

  function onScroll() {
    const el = scroller.current;
    if (el === null) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.current) setUnseen(false);
    if (el.scrollTop < NEAR_TOP_PX && canLoadOlder && status === "connected") onLoadOlder();
  }

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    const first = room.messages[0]?.messageId;
    const last = room.messages[room.messages.length - 1]?.messageId;
    const before = previous.current;
    if (before === null || before.roomId !== room.id) {
      scrollToBottom();
    } else if (before.first !== undefined && first !== before.first && last === before.last) {
      // An older page arrived above: keep the messages the reader is looking at in place.
      el.scrollTop += el.scrollHeight - before.height;
    } else if (atBottom.current || pending.length > before.pending) {
      scrollToBottom();
    } else if (last !== before.last) {
      setUnseen(true);
    }
    previous.current = { roomId: room.id, first, last, height: el.scrollHeight, pending: pending.length };
  }, [room.id, room.messages, pending.length]);

  const items: ReactNode[] = [];
  let prev: ChatMessage | undefined;
  for (const message of room.messages) {
    const newDay = prev === undefined || !sameDay(prev.timestamp, message.timestamp);
    if (newDay) {
      items.push(
        <li className="day" key={`day-${message.timestamp}`}>
          <span>{formatDay(message.timestamp)}</span>
        </li>,
      );
    }
    const grouped =
      !newDay &&
      prev !== undefined &&
      prev.userId === message.userId &&
      message.timestamp - prev.timestamp < GROUP_MS;
    items.push(
      <Message key={message.messageId} message={message} own={message.userId === myUserId} grouped={grouped} />,
    );
    prev = message;
  }

  let edge: ReactNode;
  if (room.historyError !== null) {
    edge = <span className="edge-error">Couldn't load the history: {room.historyError}</span>;
  } else if (room.loadingOlder) {
    edge = <span className="edge-note">Loading older messages…</span>;
  } else if (!room.historyLoaded) {
    edge = <span className="edge-note">{status === "connected" ? "Loading messages…" : "Waiting for connection…"}</span>;
  } else if (room.olderCursor !== null) {
    edge = (
      <button type="button" className="link small" onClick={onLoadOlder} disabled={status !== "connected"}>
        Load older messages
      </button>
    );
  } else if (room.messages.length === 0 && pending.length === 0) {
    edge = (
      <span className="empty">
        <strong>#{room.id}</strong> has no messages yet. Say hello!
      </span>
    );
  } else {
    edge = <span className="edge-note">This is the beginning of #{room.id}.</span>;
  }

  return (
    <div className="messages-wrap">
      <section
        className="messages"
        ref={scroller}
        onScroll={onScroll}
        aria-label={`Messages in #${room.id}`}
        tabIndex={0}
        data-testid="message-list"
      >
        <ol className="message-items">
          <li className="history-edge">{edge}</li>
          {items}
          {pending.map((item) => (
            <Pending
              key={item.clientMessageId}
              item={item}
              status={status}
              onRetry={() => onRetry(item.clientMessageId)}
              onDiscard={() => onDiscard(item.clientMessageId)}
            />
          ))}
        </ol>
      </section>
      {unseen && (
        <button type="button" className="jump" onClick={scrollToBottom}>
          New messages ↓
        </button>
      )}
    </div>
  );
}
