import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { ConnectionStatus } from "../chat/state";
import { codePoints, MAX_MESSAGE_CHARS } from "../chat/types";
import { useMediaQuery } from "../hooks/useMediaQuery";

interface Props {
  roomId: string;
  /** How the conversation is named: ``#room``, a group's name, the other person. */
  name: string;
  status: ConnectionStatus;
  onSend: (text: string) => void;
  /** The text changed (a keystroke): the others of a chat are told one is typing. */
  onTyping?: (text: string) => void;
}

const MAX_HEIGHT = 200;
/** A phone: touch first, or too narrow for a keyboard hint. */
export const PHONE_QUERY = "(pointer: coarse), (max-width: 560px)";
const TOUCH_QUERY = "(pointer: coarse)";

/**
 * The message box: Enter sends, Shift+Enter starts a new line — except on a touch screen, where
 * Enter starts a new line (as in phone messengers) and the Send button sends. One draft per room.
 */
export function Composer({ roomId, name, status, onSend, onTyping }: Props) {
  const phone = useMediaQuery(PHONE_QUERY);
  const touch = useMediaQuery(TOUCH_QUERY);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const text = drafts[roomId] ?? "";
  const box = useRef<HTMLTextAreaElement>(null);
  const length = codePoints(text);
  const tooLong = length > MAX_MESSAGE_CHARS;
  const empty = text.trim().length === 0;

  useLayoutEffect(() => {
    const el = box.current;
    if (el === null) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [text]);

  useEffect(() => {
    box.current?.focus({ preventScroll: true });
  }, []);

  function setText(value: string) {
    setDrafts((d) => ({ ...d, [roomId]: value }));
  }

  function send() {
    if (empty || tooLong) return;
    onSend(text);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !touch && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
    box.current?.focus();
  }

  const hint =
    status !== "connected"
      ? "You're offline. Messages you send now go out when the connection is back."
      : phone
        ? null
        : "Enter to send, Shift+Enter for a new line.";
  const described = [hint && "composer-hint", tooLong && "composer-limit"].filter(Boolean).join(" ") || undefined;

  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor="composer" className="sr-only">
        Message {name}
      </label>
      <div className="composer-box">
        <textarea
          id="composer"
          ref={box}
          rows={1}
          value={text}
          placeholder={`Message ${name}`}
          dir="auto"
          enterKeyHint={touch ? "enter" : "send"}
          aria-describedby={described}
          aria-invalid={tooLong ? true : undefined}
          onChange={(e) => {
            setText(e.target.value);
            onTyping?.(e.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <button
          type="submit"
          className="send"
          disabled={empty || tooLong}
          aria-label="Send message"
          aria-describedby={tooLong ? "composer-limit" : undefined}
        >
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path d="M3.4 20.4 21 12 3.4 3.6l-.01 6.53L15 12l-11.61 1.87z" fill="currentColor" />
          </svg>
        </button>
      </div>
      <div className="composer-notes">
        {hint && (
          <p id="composer-hint" className={`composer-hint${status === "connected" ? "" : " offline"}`}>
            {hint}
          </p>
        )}
        {length > MAX_MESSAGE_CHARS - 500 && (
          <p className={`counter${tooLong ? " over" : ""}`}>
            {tooLong && (
              <span id="composer-limit">
                Too long to send: the limit is {MAX_MESSAGE_CHARS.toLocaleString()} characters. Remove{" "}
                {(length - MAX_MESSAGE_CHARS).toLocaleString()}.{" "}
              </span>
            )}
            <span aria-hidden="true">
              {length.toLocaleString()} / {MAX_MESSAGE_CHARS.toLocaleString()}
            </span>
          </p>
        )}
      </div>
      {/* Said once when the message goes over the limit, not at every key. */}
      <p className="sr-only" aria-live="polite">
        {tooLong ? `Too long to send: the limit is ${MAX_MESSAGE_CHARS.toLocaleString()} characters.` : ""}
      </p>
    </form>
  );
}
