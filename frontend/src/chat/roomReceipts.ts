/**
 * Receipts in rooms (conformance/RECEIPTS.md, rooms): plain TypeScript, no React, no DOM, no
 * clock (`now` is passed in).
 *
 * A room's audience is unbounded, so the server sends no receipt frames for rooms: the app
 * reports how far it got — `delivered` when room messages arrive, `read` for the newest shown —
 * at most one report per room every `REPORT_INTERVAL_MS` (the newest position only), and asks
 * for the counts of its own newest message (`GET /rooms/{roomId}/receipts`) while the room is on
 * screen. A position is a message's (timestamp, messageId), the order of a room's history.
 */

import { compareKeys, type MessageKey } from "./messages";
import type { MessageStatus, ReceiptKind } from "./receipts";
import type { ChatMessage } from "./types";

/** A message's place in a room's history: by timestamp, then messageId (as the server sorts). */
export type RoomPosition = MessageKey;

/** At most one receipt per room this often; what arrives meanwhile is reported after it. */
export const REPORT_INTERVAL_MS = 2000;

/** Negative if `a` comes before `b`, 0 if the same message, positive if after. */
export function comparePositions(a: RoomPosition, b: RoomPosition): number {
  return compareKeys(a, b);
}

/** True if `a` is further than `b` (nothing, null, is before every message). */
export function isAfter(a: RoomPosition, b: RoomPosition | null): boolean {
  return b === null || comparePositions(a, b) > 0;
}

function furthest(a: RoomPosition | null, b: RoomPosition | null): RoomPosition | null {
  if (a === null) return b;
  if (b === null) return a;
  return comparePositions(a, b) >= 0 ? a : b;
}

function positionOf(message: ChatMessage): RoomPosition {
  return { timestamp: message.timestamp, messageId: message.messageId };
}

/** The newest of `messages` (oldest first) written by someone other than `me`, or null. */
export function newestFromOthers(messages: readonly ChatMessage[], me: string): RoomPosition | null {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i].userId !== me) return positionOf(messages[i]);
  }
  return null;
}

/** The newest of `messages` (oldest first) written by `me`, or null. */
export function newestOwn(messages: readonly ChatMessage[], me: string): RoomPosition | null {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i].userId === me) return positionOf(messages[i]);
  }
  return null;
}

// -- reporting: what to tell the server, and when ------------------------------------------------

export interface RoomReceiptRequest {
  action: "receipt";
  roomId: string;
  kind: ReceiptKind;
  messageId: string;
  timestamp: number;
}

/** One room's reports: how far they went, how far they should go, and when the last went. */
export interface ReportLane {
  /** Reported delivered (a read report counts: the server moves delivered with read). */
  delivered: RoomPosition | null;
  read: RoomPosition | null;
  /** How far the app got (messages arrived / shown), reported or not. */
  wantDelivered: RoomPosition | null;
  wantRead: RoomPosition | null;
  /** When the last report of this room was sent (ms), or null if none was. */
  lastAt: number | null;
}

/** roomId → its lane. */
export type ReportBook = Readonly<Record<string, ReportLane>>;

const EMPTY_LANE: ReportLane = { delivered: null, read: null, wantDelivered: null, wantRead: null, lastAt: null };

/**
 * The book once message `position` of `roomId` arrived (`delivered`) or was shown (`read`; shown
 * means arrived too). Positions only move forward: an older one changes nothing.
 */
export function observe(book: ReportBook, roomId: string, kind: ReceiptKind, position: RoomPosition): ReportBook {
  const lane = book[roomId] ?? EMPTY_LANE;
  const wantDelivered = furthest(lane.wantDelivered, position);
  const wantRead = kind === "read" ? furthest(lane.wantRead, position) : lane.wantRead;
  if (wantDelivered === lane.wantDelivered && wantRead === lane.wantRead && book[roomId]) return book;
  return { ...book, [roomId]: { ...lane, wantDelivered, wantRead } };
}

function pendingKind(lane: ReportLane): ReceiptKind | null {
  if (lane.wantRead !== null && isAfter(lane.wantRead, lane.read)) return "read";
  if (lane.wantDelivered !== null && isAfter(lane.wantDelivered, furthest(lane.delivered, lane.read))) {
    return "delivered";
  }
  return null;
}

/**
 * The reports to send at `now` — per room, the newest read if one is pending, else the newest
 * delivered, unless that room's last report went less than `REPORT_INTERVAL_MS` ago — and the
 * book with them counted as sent.
 */
export function dueReports(book: ReportBook, now: number): [RoomReceiptRequest[], ReportBook] {
  const reports: RoomReceiptRequest[] = [];
  let next: Record<string, ReportLane> | null = null;
  for (const [roomId, lane] of Object.entries(book)) {
    const kind = pendingKind(lane);
    if (kind === null || (lane.lastAt !== null && now - lane.lastAt < REPORT_INTERVAL_MS)) continue;
    const position = (kind === "read" ? lane.wantRead : lane.wantDelivered) as RoomPosition;
    reports.push({ action: "receipt", roomId, kind, ...position });
    next ??= { ...book };
    next[roomId] =
      kind === "read"
        ? { ...lane, read: position, delivered: furthest(lane.delivered, position), lastAt: now }
        : { ...lane, delivered: position, lastAt: now };
  }
  return [reports, next ?? book];
}

/** When the next report falls due (ms), or null if nothing waits to be reported. */
export function nextDueAt(book: ReportBook): number | null {
  let due: number | null = null;
  for (const lane of Object.values(book)) {
    if (pendingKind(lane) === null) continue;
    const at = lane.lastAt === null ? 0 : lane.lastAt + REPORT_INTERVAL_MS;
    due = due === null ? at : Math.min(due, at);
  }
  return due;
}

/** The book with only the lanes of `roomIds` (rooms left are forgotten). */
export function keepRooms(book: ReportBook, roomIds: ReadonlySet<string>): ReportBook {
  const gone = Object.keys(book).filter((id) => !roomIds.has(id));
  if (gone.length === 0) return book;
  const next = { ...book };
  for (const id of gone) delete next[id];
  return next;
}

// -- counts: what the sender sees ----------------------------------------------------------------

/** `GET /rooms/{roomId}/receipts?messageId=&timestamp=`'s counts: of the room's members other
 * than the caller (`of`), how many got message (timestamp, messageId) and how many read it. */
export interface RoomCounts extends RoomPosition {
  delivered: number;
  read: number;
  of: number;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** The counts of a receipts answer (its `counts` member), or null if it has none or they are
 * not well formed. */
export function parseRoomCounts(body: unknown): RoomCounts | null {
  if (typeof body !== "object" || body === null) return null;
  const counts = (body as { counts?: unknown }).counts;
  if (typeof counts !== "object" || counts === null) return null;
  const { messageId, timestamp, delivered, read, of } = counts as Record<string, unknown>;
  if (typeof messageId !== "string" || typeof timestamp !== "number") return null;
  if (!isCount(delivered) || !isCount(read) || !isCount(of)) return null;
  return { messageId, timestamp, delivered: Math.max(delivered, read), read, of };
}

/**
 * What the app knows after counts `next` arrived: counts of a newer message replace those of an
 * older one; for the same message each count only grows (answers may arrive out of order, and
 * markers never move back); counts of an older message than the one known are ignored.
 */
export function mergeCounts(known: RoomCounts | undefined, next: RoomCounts): RoomCounts {
  if (known === undefined) return next;
  const order = comparePositions(next, known);
  if (order > 0) return next;
  if (order < 0) return known;
  const merged = {
    ...next,
    delivered: Math.max(known.delivered, next.delivered),
    read: Math.max(known.read, next.read),
  };
  return merged.delivered === known.delivered && merged.read === known.read && merged.of === known.of
    ? known
    : merged;
}

/**
 * The ticks of one's own stored room message at `position`, from the counts known: for the
 * message counted, ✓ sent, ✓✓ delivered (to everyone), read (by everyone), with K of N; an older
 * own message was got and read by at least as many (markers only move forward), so it shows
 * delivered or read when everyone reached the counted one, else ✓ sent; a newer one, ✓ sent.
 */
export function roomMessageStatus(position: RoomPosition, counts: RoomCounts | undefined): MessageStatus {
  const sent: MessageStatus = { tick: "sent", readBy: 0, deliveredTo: 0, of: counts?.of ?? 0 };
  if (counts === undefined || counts.of === 0) return sent;
  const order = comparePositions(position, counts);
  if (order > 0) return sent;
  const { of } = counts;
  const deliveredTo = Math.min(counts.delivered, of);
  const readBy = Math.min(counts.read, of);
  if (order === 0) {
    const tick = readBy === of ? "read" : deliveredTo === of ? "delivered" : "sent";
    return { tick, readBy, deliveredTo, of };
  }
  if (readBy === of) return { tick: "read", readBy, deliveredTo, of };
  if (deliveredTo === of) return { tick: "delivered", readBy: 0, deliveredTo, of };
  return sent;
}

// -- asking for counts: how often ----------------------------------------------------------------

/** After one's newest message is stored or the room comes on screen, the counts are asked for
 * at once, again after these delays, then every `COUNTS_REFRESH_MS` while the room stays on
 * screen: receipts tend to come in the first seconds. */
export const COUNTS_FIRST_DELAYS_MS: readonly number[] = [2000, 3000];
export const COUNTS_REFRESH_MS = 15_000;

/** How long to wait before asking for the counts again after the `step`-th ask (0: the first). */
export function countsRefreshDelay(step: number): number {
  return COUNTS_FIRST_DELAYS_MS[step] ?? COUNTS_REFRESH_MS;
}

/**
 * Whether asking again can help after a failed ask: not when the server refused the request
 * itself (a 4xx — NOT_IN_ROOM once the user left, VALIDATION_ERROR, or a stage without room
 * receipts); yes when the network or the server failed for a moment, or asked to slow down (429).
 */
export function worthRetrying(status: number | undefined): boolean {
  return status === undefined || status < 400 || status >= 500 || status === 429;
}
