import type { CSSProperties } from "react";
import type { OutgoingMessage } from "../chat/outbox";
import { statusLabel, type MessageStatus } from "../chat/receipts";
import type { ConnectionStatus } from "../chat/state";
import type { ChatMessage } from "../chat/types";
import { avatarHue, formatFull, formatTime, initials } from "../format";
import { AttachmentList } from "./Attachments";
import { MessageText } from "./MessageText";

/** A stored message: author and time (the full date on hover), then its text; one's own
 * message ends with its ticks — ✓ sent, ✓✓ delivered, ✓✓ in colour read ("read by K of N" in a
 * group or a room). */
export function Message({
  message,
  own,
  grouped,
  status,
  group = false,
}: {
  message: ChatMessage;
  own: boolean;
  grouped: boolean;
  status?: MessageStatus | null;
  group?: boolean;
}) {
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
        {message.message !== "" && <MessageText text={message.message} />}
        {message.attachments && <AttachmentList roomId={message.roomId} attachments={message.attachments} />}
        {status && <Ticks status={status} group={group} />}
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
        {item.text !== "" && <MessageText text={item.text} />}
        {item.attachments && (
          <ul className="attachments pending-files" aria-label="Attachments">
            {item.attachments.map((a) => (
              <li key={a.key} className="file-chip">
                <bdi className="file-name">{a.name}</bdi>
              </li>
            ))}
          </ul>
        )}
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

function Ticks({ status, group }: { status: MessageStatus; group: boolean }) {
  const label = statusLabel(status, group);
  const marks = status.tick === "sent" || status.tick === "sending" ? "✓" : "✓✓";
  return (
    <span className="ticks" data-status={status.tick} title={label}>
      <span aria-hidden="true">{marks}</span>
      {group && status.readBy > 0 && <span className="read-by" aria-hidden="true">{` ${status.readBy}/${status.of}`}</span>}
      <span className="sr-only">{label}</span>
    </span>
  );
}
