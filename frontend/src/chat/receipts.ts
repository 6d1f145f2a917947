/**
 * Receipts, typing and presence (conformance/RECEIPTS.md) as plain TypeScript: the frames, the
 * state they build, and what the views show — ticks on one's own messages, "read by K of N",
 * "… is typing", online dots and "last seen". No React, no DOM, no clock: `now` is passed in.
 */

export interface Markers {
  deliveredSeq: number;
  readSeq: number;
}

export interface ReceiptFrame extends Markers {
  type: "receipt";
  chatId: string;
  userId: string;
}

export interface TypingFrame {
  type: "typing";
  chatId: string;
  userId: string;
  username: string;
  state: "start" | "stop";
  expiresInMs: number;
}

export interface PresenceFrame {
  type: "presence";
  userId: string;
  online: boolean;
  lastSeen: number | null;
}

export type SignalFrame = ReceiptFrame | TypingFrame | PresenceFrame;

export type ReceiptKind = "delivered" | "read";

export interface ReceiptRequest {
  action: "receipt";
  chatId: string;
  kind: ReceiptKind;
  seq: number;
}

export interface TypingRequest {
  action: "typing";
  chatId: string;
  state: "start" | "stop";
}

/** How long an indicator shows when a frame names no expiry; and the longest it may (§10). */
const DEFAULT_TYPING_MS = 5000;
const MAX_TYPING_MS = 10_000;
/** While typing, a `start` is sent again this often (under the stage's rate limit of 2 s). */
export const TYPING_RENEW_MS = 3000;
/** With no keystroke for this long, the typist is told to have stopped. */
export const TYPING_IDLE_MS = 4000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** Parse a receipt, typing or presence frame (a parsed JSON value); anything else gives null. */
export function parseSignal(value: unknown): SignalFrame | null {
  if (!isObject(value) || typeof value.userId !== "string") return null;
  if (value.type === "receipt") {
    if (typeof value.chatId !== "string" || !isSeq(value.deliveredSeq) || !isSeq(value.readSeq)) {
      return null;
    }
    return {
      type: "receipt",
      chatId: value.chatId,
      userId: value.userId,
      deliveredSeq: Math.max(value.deliveredSeq, value.readSeq),
      readSeq: value.readSeq,
    };
  }
  if (value.type === "typing") {
    if (typeof value.chatId !== "string") return null;
    if (value.state !== "start" && value.state !== "stop") return null;
    const expires = typeof value.expiresInMs === "number" ? value.expiresInMs : DEFAULT_TYPING_MS;
    return {
      type: "typing",
      chatId: value.chatId,
      userId: value.userId,
      username: typeof value.username === "string" ? value.username : "someone",
      state: value.state,
      expiresInMs: Math.min(Math.max(expires, 0), MAX_TYPING_MS),
    };
  }
  if (value.type === "presence" && typeof value.online === "boolean") {
    return {
      type: "presence",
      userId: value.userId,
      online: value.online,
      lastSeen: typeof value.lastSeen === "number" ? value.lastSeen : null,
    };
  }
  return null;
}

// -- receipts ------------------------------------------------------------------------------------

/** chatId → userId → the highest markers told so far. */
export type MarkerBook = Readonly<Record<string, Readonly<Record<string, Markers>>>>;

/** The book with `markers` of `userId` in `chatId` merged in: markers only move forward, so a
 * late frame never moves one back (frames may arrive out of order). */
export function mergeMarkers(
  book: MarkerBook,
  chatId: string,
  userId: string,
  markers: Markers,
): MarkerBook {
  const chat = book[chatId] ?? {};
  const old = chat[userId] ?? { deliveredSeq: 0, readSeq: 0 };
  const readSeq = Math.max(old.readSeq, markers.readSeq);
  const deliveredSeq = Math.max(old.deliveredSeq, markers.deliveredSeq, readSeq);
  if (deliveredSeq === old.deliveredSeq && readSeq === old.readSeq && chat[userId]) return book;
  return { ...book, [chatId]: { ...chat, [userId]: { deliveredSeq, readSeq } } };
}

export type Tick = "sending" | "sent" | "delivered" | "read";

export interface MessageStatus {
  tick: Tick;
  /** How many of the others read it, and of how many (for "read by K of N" in groups). */
  readBy: number;
  deliveredTo: number;
  of: number;
}

/**
 * The status of one's own message `seq` (null: not acknowledged yet) in a chat of
 * `participants`: ✓ sent, ✓✓ delivered (to every other participant), read (by every other).
 */
export function messageStatus(
  seq: number | null,
  me: string,
  participants: readonly string[],
  markers: Readonly<Record<string, Markers>> | undefined,
): MessageStatus {
  const others = participants.filter((id) => id !== me);
  if (seq === null) return { tick: "sending", readBy: 0, deliveredTo: 0, of: others.length };
  const of = others.length;
  let readBy = 0;
  let deliveredTo = 0;
  for (const id of others) {
    const m = markers?.[id];
    if (!m) continue;
    if (m.readSeq >= seq) readBy += 1;
    if (Math.max(m.deliveredSeq, m.readSeq) >= seq) deliveredTo += 1;
  }
  let tick: Tick = "sent";
  if (of > 0 && readBy === of) tick = "read";
  else if (of > 0 && deliveredTo === of) tick = "delivered";
  return { tick, readBy, deliveredTo, of };
}

/** How a status reads to people: for a tooltip and for screen readers. */
export function statusLabel(status: MessageStatus, group: boolean): string {
  if (status.tick === "sending") return "Sending";
  if (group) {
    if (status.readBy > 0) return `Read by ${status.readBy} of ${status.of}`;
    if (status.deliveredTo > 0) return `Delivered to ${status.deliveredTo} of ${status.of}`;
    return "Sent";
  }
  return { sent: "Sent", delivered: "Delivered", read: "Read" }[status.tick];
}

/** chatId → the highest seq already receipted, per kind: receipts are sent only to move on. */
export type SentReceipts = Readonly<Record<string, Markers>>;

/**
 * The receipt to send now that message `seq` of `chatId` was received (`delivered`) or shown on
 * screen (`read`), or null when one as far was already sent. Returns the new book too.
 */
export function nextReceipt(
  sent: SentReceipts,
  chatId: string,
  kind: ReceiptKind,
  seq: number,
): [ReceiptRequest | null, SentReceipts] {
  const old = sent[chatId] ?? { deliveredSeq: 0, readSeq: 0 };
  const reached = kind === "read" ? old.readSeq : Math.max(old.deliveredSeq, old.readSeq);
  if (seq <= reached) return [null, sent];
  const now =
    kind === "read"
      ? { deliveredSeq: Math.max(old.deliveredSeq, seq), readSeq: seq }
      : { ...old, deliveredSeq: seq };
  return [{ action: "receipt", chatId, kind, seq }, { ...sent, [chatId]: now }];
}

// -- typing --------------------------------------------------------------------------------------

interface Typist {
  username: string;
  until: number;
}

/** chatId → userId → who is typing and until when (ms since the epoch). */
export type TypingBook = Readonly<Record<string, Readonly<Record<string, Typist>>>>;

/** The book after a typing frame received at `now`. */
export function applyTyping(book: TypingBook, frame: TypingFrame, now: number): TypingBook {
  const chat = { ...(book[frame.chatId] ?? {}) };
  if (frame.state === "start") {
    chat[frame.userId] = { username: frame.username, until: now + frame.expiresInMs };
  } else {
    delete chat[frame.userId];
  }
  return { ...book, [frame.chatId]: chat };
}

/** A message of `userId` ends their indicator in `chatId`. */
export function stopTyping(book: TypingBook, chatId: string, userId: string): TypingBook {
  if (!book[chatId]?.[userId]) return book;
  const chat = { ...book[chatId] };
  delete chat[userId];
  return { ...book, [chatId]: chat };
}

/** Who is typing in `chatId` at `now` (by name); expired indicators are gone on their own. */
export function typingNames(book: TypingBook, chatId: string, now: number): string[] {
  return Object.values(book[chatId] ?? {})
    .filter((t) => t.until > now)
    .map((t) => t.username)
    .sort((a, b) => a.localeCompare(b));
}

/** "ada is typing…", "ada and bob are typing…", "3 people are typing…", or "". */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** The typist's side: when to tell the others that one started, renewed, or stopped. */
export interface TypingOut {
  chatId: string | null;
  lastStart: number;
  lastKey: number;
}

export const NOT_TYPING: TypingOut = { chatId: null, lastStart: 0, lastKey: 0 };

/** A keystroke in `chatId` at `now`: the frames to send (a stop for another chat, a start
 * unless one was sent less than `TYPING_RENEW_MS` ago) and the new state. */
export function keystroke(
  out: TypingOut,
  chatId: string,
  now: number,
): [TypingRequest[], TypingOut] {
  const frames: TypingRequest[] = [];
  let lastStart = out.lastStart;
  if (out.chatId !== null && out.chatId !== chatId) {
    frames.push({ action: "typing", chatId: out.chatId, state: "stop" });
    lastStart = 0;
  }
  if (out.chatId !== chatId || now - lastStart >= TYPING_RENEW_MS) {
    frames.push({ action: "typing", chatId, state: "start" });
    lastStart = now;
  }
  return [frames, { chatId, lastStart, lastKey: now }];
}

/** The typist sent the message, cleared the field, or was idle past `TYPING_IDLE_MS` at `now`
 * (`force`: sent or cleared): the stop to send, if one is due. */
export function typingStopped(
  out: TypingOut,
  now: number,
  force: boolean,
): [TypingRequest | null, TypingOut] {
  if (out.chatId === null) return [null, out];
  if (!force && now - out.lastKey < TYPING_IDLE_MS) return [null, out];
  return [{ action: "typing", chatId: out.chatId, state: "stop" }, NOT_TYPING];
}

// -- presence ------------------------------------------------------------------------------------

export interface Presence {
  online: boolean;
  lastSeen: number | null;
}

/** userId → presence, as last told (by a frame, or by the chat list). */
export type PresenceBook = Readonly<Record<string, Presence>>;

export function applyPresence(book: PresenceBook, userId: string, presence: Presence): PresenceBook {
  return { ...book, [userId]: presence };
}

/** "online", "last seen just now", "last seen 5 min ago", "last seen 3 h ago", or a date. */
export function presenceText(presence: Presence | undefined, now: number): string {
  if (!presence) return "";
  if (presence.online) return "online";
  if (presence.lastSeen === null) return "offline";
  const minutes = Math.floor((now - presence.lastSeen) / 60_000);
  if (minutes < 1) return "last seen just now";
  if (minutes < 60) return `last seen ${minutes} min ago`;
  if (minutes < 24 * 60) return `last seen ${Math.floor(minutes / 60)} h ago`;
  return `last seen ${new Date(presence.lastSeen).toLocaleDateString()}`;
}
