import type { CSSProperties } from "react";
import type { OutgoingMessage } from "../chat/outbox";
import type { ConnectionStatus } from "../chat/state";
import type { ChatMessage } from "../chat/types";
import { avatarHue, formatFull, formatTime, initials } from "../format";
import { MessageText } from "./MessageText";

/** A stored message: author and time (the full date on hover), then its text. */
export function Message({ message, own, grouped }: { message: ChatMessage; own: boolean; grouped: boolean }) {
  const full = formatFull(message.timestamp);
  return (
    <li className={`msg ${own ? "own" : "other"}${grouped ? " grouped" : ""}`}>
      {!own && (
        <span className="avatar" style={{ "--hue": avatarHue(message.userId) } as CSSProperties} aria-hidden="true">
          {grouped ? "" : initials(message.username)}
        </span>
      )}
      <div className="bubble">
        <div className={grouped ? "meta sr-only" : "meta"}>
          <bdi className="author">{own ? "You" : message.username}</bdi>{" "}
          <time dateTime={new Date(message.timestamp).toISOString()} title={full}>
            {formatTime(message.timestamp)}
          </time>
        </div>
        <MessageText text={message.message} />
      </div>
      {grouped && (
        // The time of a message under another of the same author, shown on hover as the others.
        <time className="side-time" dateTime={new Date(message.timestamp).toISOString()} title={full} aria-hidden="true">
          {formatTime(message.timestamp)}
        </time>
      )}
    </li>
  );
}

/** A message of the person's own not stored yet: sending, waiting, or failed with its actions. */
export function PendingMessage({
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
    <li className={`msg own pending ${item.state}`}>
      <div className="bubble">
        <div className="meta">
          <span className="author">You</span> <span className="pending-state">{label}</span>
        </div>
        <MessageText text={item.text} />
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
