/**
 * Messages the user wrote that the server has not acknowledged yet.
 *
 * Each carries a ``clientMessageId``; the server stores a repeat of it once and acknowledges it
 * with the original messageId, so anything not acknowledged is simply sent again after a
 * reconnect. One message is in flight at a time, so messages arrive in the order they were typed
 * and an error frame (which names no clientMessageId) belongs to the one in flight.
 */

import type { Attachment } from "./types";

export type OutgoingState = "queued" | "sending" | "failed";

export interface OutgoingMessage {
  clientMessageId: string;
  roomId: string;
  text: string;
  attachments?: Attachment[];
  createdAt: number;
  state: OutgoingState;
  error?: string;
}

export type Outbox = readonly OutgoingMessage[];

/** A fresh clientMessageId (1–64 of ``A-Z a-z 0-9 _ - . :``). */
export function newClientMessageId(random: () => string = defaultRandomId): string {
  return `c-${random()}`.replace(/[^A-Za-z0-9_.:-]/g, "").slice(0, 64);
}

function defaultRandomId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function enqueue(outbox: Outbox, message: OutgoingMessage): Outbox {
  return [...outbox, message];
}

/** The message to send now: none while one is in flight, else the oldest queued one whose room is ready. */
export function nextToSend(
  outbox: Outbox,
  roomReady: (roomId: string) => boolean,
): OutgoingMessage | undefined {
  if (outbox.some((m) => m.state === "sending")) return undefined;
  return outbox.find((m) => m.state === "queued" && roomReady(m.roomId));
}

function update(outbox: Outbox, id: string, change: Partial<OutgoingMessage>): Outbox {
  return outbox.map((m) => (m.clientMessageId === id ? { ...m, ...change } : m));
}

export function markSending(outbox: Outbox, id: string): Outbox {
  return update(outbox, id, { state: "sending", error: undefined });
}

/** Remove the message the server acknowledged (or broadcast back); returns it, if it was here. */
export function settle(outbox: Outbox, id: string): [Outbox, OutgoingMessage | undefined] {
  const found = outbox.find((m) => m.clientMessageId === id);
  if (found === undefined) return [outbox, undefined];
  return [outbox.filter((m) => m !== found), found];
}

/** The server refused the message in flight: keep it, marked failed, for the user to retry or discard. */
export function failInFlight(outbox: Outbox, error: string): Outbox {
  return outbox.map((m) => (m.state === "sending" ? { ...m, state: "failed", error } : m));
}

/** The connection dropped: whatever was in flight goes back to the queue, to be sent again. */
export function requeueInFlight(outbox: Outbox): Outbox {
  return outbox.some((m) => m.state === "sending")
    ? outbox.map((m) => (m.state === "sending" ? { ...m, state: "queued" } : m))
    : outbox;
}

export function retry(outbox: Outbox, id: string): Outbox {
  return update(outbox, id, { state: "queued", error: undefined });
}

export function discard(outbox: Outbox, id: string): Outbox {
  return outbox.filter((m) => m.clientMessageId !== id);
}

export function dropRoom(outbox: Outbox, roomId: string): Outbox {
  return outbox.filter((m) => m.roomId !== roomId);
}
