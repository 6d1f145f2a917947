import { useLayoutEffect, useRef, useState, type ReactNode } from "react";
import type { OutgoingMessage } from "../chat/outbox";
import type { MessageStatus } from "../chat/receipts";
import type { ConnectionStatus, RoomState } from "../chat/state";
import type { ChatMessage } from "../chat/types";
import { formatDay, sameDay } from "../format";
import { Message, PendingMessage } from "./Message";

interface Props {
  room: RoomState;
  /** How the conversation is named: ``#room``, a group's name, the other person. */
  name: string;
  pending: readonly OutgoingMessage[];
  myUserId: string;
  status: ConnectionStatus;
  onLoadOlder: () => void;
  onRetry: (clientMessageId: string) => void;
  onDiscard: (clientMessageId: string) => void;
  /** The ticks of one's own message (in a room, from the counts asked for). */
  statusOf?: (message: ChatMessage) => MessageStatus | null;
  group?: boolean;
}

const GROUP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 120;

/** A room's messages, oldest first; scrolling near the top loads the page before. */
export function MessageList({
  room,
  name,
  pending,
  myUserId,
  status,
  onLoadOlder,
  onRetry,
  onDiscard,
  statusOf,
  group,
}: Props) {
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
      <Message
        key={message.messageId}
        message={message}
        own={message.userId === myUserId}
        grouped={grouped}
        status={message.userId === myUserId ? statusOf?.(message) : null}
        group={group}
      />,
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
        <strong>{name}</strong> has no messages yet. Say hello!
      </span>
    );
  } else {
    edge = <span className="edge-note">This is the beginning of {name}.</span>;
  }

  return (
    <div className="messages-wrap">
      <section
        className="messages"
        ref={scroller}
        onScroll={onScroll}
        aria-label={`Messages in ${name}`}
        tabIndex={0}
      >
        <ol className="message-items">
          <li className="history-edge">{edge}</li>
          {items}
          {pending.map((item) => (
            <PendingMessage
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
