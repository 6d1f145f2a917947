import {
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from "react";
import type { ConnectionStatus } from "../chat/state";
import { codePoints, MAX_MESSAGE_CHARS, type Attachment } from "../chat/types";
import { useMediaQuery } from "../hooks/useMediaQuery";
import { ACCEPTED_TYPES, fileProblem, formatSize, MAX_ATTACHMENTS, pastedName } from "../media";

/** Upload one file, reporting progress (0-1); resolves to the attachment to send. */
export type Uploader = (file: File, name: string, onProgress: (fraction: number) => void) => Promise<Attachment>;

interface Props {
  roomId: string;
  /** How the conversation is named: ``#room``, a group's name, the other person. */
  name: string;
  status: ConnectionStatus;
  onSend: (text: string, attachments: Attachment[]) => void;
  /** The text changed (a keystroke): the others of a chat are told one is typing. */
  onTyping?: (text: string) => void;
  upload?: Uploader;
}

interface PendingFile {
  id: number;
  name: string;
  size: number;
  progress: number;
  attachment: Attachment | null;
  error: string | null;
}

let nextFileId = 1;

const MAX_HEIGHT = 200;
/** A phone: touch first, or too narrow for a keyboard hint. */
export const PHONE_QUERY = "(pointer: coarse), (max-width: 560px)";
const TOUCH_QUERY = "(pointer: coarse)";

/**
 * The message box: Enter sends, Shift+Enter starts a new line — except on a touch screen, where
 * Enter starts a new line (as in phone messengers) and the Send button sends. One draft per room.
 */
export function Composer({ roomId, name, status, onSend, onTyping, upload }: Props) {
  const phone = useMediaQuery(PHONE_QUERY);
  const touch = useMediaQuery(TOUCH_QUERY);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const text = drafts[roomId] ?? "";
  const box = useRef<HTMLTextAreaElement>(null);
  const length = codePoints(text);
  const tooLong = length > MAX_MESSAGE_CHARS;
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [fileError, setFileError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const uploading = files.some((f) => f.attachment === null && f.error === null);
  const ready = files.filter((f) => f.attachment !== null).map((f) => f.attachment as Attachment);
  const empty = text.trim().length === 0 && ready.length === 0;

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

  function change(id: number, update: Partial<PendingFile>) {
    setFiles((all) => all.map((f) => (f.id === id ? { ...f, ...update } : f)));
  }

  function addFiles(chosen: File[]) {
    if (upload === undefined || chosen.length === 0) return;
    const room = MAX_ATTACHMENTS - files.length;
    const problems: string[] = [];
    if (chosen.length > room) problems.push(`At most ${MAX_ATTACHMENTS} files go in one message.`);
    const added: PendingFile[] = [];
    for (const file of chosen.slice(0, Math.max(0, room))) {
      const name = file.name || pastedName(file.type);
      const problem = fileProblem({ name, type: file.type, size: file.size });
      if (problem !== null) {
        problems.push(problem);
        continue;
      }
      const pending: PendingFile = { id: nextFileId++, name, size: file.size, progress: 0, attachment: null, error: null };
      added.push(pending);
      upload(file, name, (progress) => change(pending.id, { progress })).then(
        (attachment) => change(pending.id, { attachment, progress: 1 }),
        (error: Error) => change(pending.id, { error: error.message }),
      );
    }
    setFileError(problems.length > 0 ? problems.join(" ") : null);
    if (added.length > 0) setFiles((all) => [...all, ...added]);
  }

  function removeFile(id: number) {
    setFiles((all) => all.filter((f) => f.id !== id));
  }

  function send() {
    if (empty || tooLong || uploading) return;
    onSend(text, ready);
    setText("");
    setFiles([]);
    setFileError(null);
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = Array.from(event.clipboardData.files);
    if (pasted.length === 0 || upload === undefined) return;
    event.preventDefault();
    addFiles(pasted);
  }

  function onDrop(event: DragEvent<HTMLFormElement>) {
    if (upload === undefined) return;
    event.preventDefault();
    setDragging(false);
    addFiles(Array.from(event.dataTransfer.files));
  }

  function onDragOver(event: DragEvent<HTMLFormElement>) {
    if (upload === undefined || !Array.from(event.dataTransfer.types).includes("Files")) return;
    event.preventDefault();
    setDragging(true);
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
    <form
      className={`composer${dragging ? " dragging" : ""}`}
      onSubmit={onSubmit}
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
    >
      {files.length > 0 && (
        <ul className="composer-files" aria-label="Files to send">
          {files.map((f) => (
            <li key={f.id} className={`composer-file${f.error ? " failed" : ""}`}>
              <bdi className="file-name">{f.name}</bdi> <span className="file-size">{formatSize(f.size)}</span>
              {f.error ? (
                <span className="file-error" role="alert">
                  {f.error}
                </span>
              ) : (
                <progress
                  className="upload-progress"
                  max={1}
                  value={f.progress}
                  aria-label={`Uploading ${f.name}`}
                  data-done={f.attachment !== null ? "true" : "false"}
                />
              )}
              <button type="button" className="link small" onClick={() => removeFile(f.id)} aria-label={`Remove ${f.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      {fileError && (
        <p className="file-refused" role="alert">
          {fileError}
        </p>
      )}
      <label htmlFor="composer" className="sr-only">
        Message {name}
      </label>
      <div className="composer-box">
        {upload !== undefined && (
          <>
            <input
              ref={picker}
              id="composer-file"
              type="file"
              multiple
              className="sr-only"
              tabIndex={-1}
              aria-label="Choose files to attach"
              accept={ACCEPTED_TYPES.join(",")}
              onChange={(e) => {
                addFiles(Array.from(e.target.files ?? []));
                e.target.value = "";
              }}
            />
            <button type="button" className="attach" aria-label="Attach files" onClick={() => picker.current?.click()}>
              <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
                <path
                  d="M16.5 6.5 8.6 14.4a2 2 0 0 0 2.8 2.8l7.9-7.9a4 4 0 0 0-5.7-5.7l-8 8a6 6 0 0 0 8.5 8.5l6.4-6.4"
                  fill="none"
                  stroke="currentColor"
                  strokeWidth="1.8"
                  strokeLinecap="round"
                />
              </svg>
            </button>
          </>
        )}
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
          onPaste={onPaste}
        />
        <button
          type="submit"
          className="send"
          disabled={empty || tooLong || uploading}
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
