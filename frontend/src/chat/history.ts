/**
 * Loading a room's history: the latest page on entering it, older pages on scrolling up, and a
 * catch-up after a reconnect that pages back until it meets what the client already had — so the
 * view has no gap (or, past a cap, is reset to the fresh window) and, by messageId, no duplicate.
 */

import { compareKeys, keyOf, mergeMessages, newestKey, type MessageKey } from "./messages";
import type { ChatMessage, ClientFrame } from "./types";

export const PAGE_SIZE = 50;
export const CATCHUP_PAGE_SIZE = 100;
/** Past this many pages a catch-up gives up on joining the old view and shows the fresh window. */
export const MAX_CATCHUP_PAGES = 5;

export type HistoryRequest =
  /** The latest page, the first time the client reads the room. */
  | { kind: "initial"; roomId: string }
  /** After a reconnect: pages newest-first until one reaches back to ``since``. */
  | {
      kind: "catchup";
      roomId: string;
      since: MessageKey;
      before: string | null;
      pages: number;
      collected: ChatMessage[];
    }
  /** The page before the oldest one shown. */
  | { kind: "older"; roomId: string; before: string }
  /** A frame sent only so the server sees the connection is in use; its answer is ignored. */
  | { kind: "keepalive"; roomId: string };

/** What a room keeps of its history. */
export interface RoomHistory {
  /** Oldest first, each messageId once. */
  messages: ChatMessage[];
  /** The newest message received from the server's stream or history (not from an ack): the
   *  view is known to be complete up to here. */
  syncedKey: MessageKey | null;
  /** The latest page has been read at least once. */
  historyLoaded: boolean;
  /** Cursor of the page before the oldest message shown; null when there is none. */
  olderCursor: string | null;
}

export interface HistoryPage {
  messages: ChatMessage[];
  nextBefore: string | null;
}

export function requestFrame(request: HistoryRequest): ClientFrame {
  switch (request.kind) {
    case "initial":
      return { action: "getMessages", roomId: request.roomId, limit: PAGE_SIZE };
    case "catchup":
      return request.before === null
        ? { action: "getMessages", roomId: request.roomId, limit: CATCHUP_PAGE_SIZE }
        : {
            action: "getMessages",
            roomId: request.roomId,
            limit: CATCHUP_PAGE_SIZE,
            before: request.before,
          };
    case "older":
      return { action: "getMessages", roomId: request.roomId, limit: PAGE_SIZE, before: request.before };
    case "keepalive":
      return { action: "getMessages", roomId: request.roomId, limit: 1 };
  }
}

/** The request that brings a room up to date when a connection opens. */
export function refreshRequest(roomId: string, history: RoomHistory): HistoryRequest {
  if (!history.historyLoaded || history.syncedKey === null) return { kind: "initial", roomId };
  return { kind: "catchup", roomId, since: history.syncedKey, before: null, pages: 0, collected: [] };
}

/** Apply one page answering ``request``; returns the room's new history and the next request, if any. */
export function applyPage(
  history: RoomHistory,
  request: HistoryRequest,
  page: HistoryPage,
): { history: RoomHistory; next: HistoryRequest | null } {
  switch (request.kind) {
    case "keepalive":
      return { history, next: null };
    case "initial":
      return {
        history: {
          messages: mergeMessages(history.messages, page.messages),
          syncedKey: newestKey(page.messages, history.syncedKey),
          historyLoaded: true,
          olderCursor: page.nextBefore,
        },
        next: null,
      };
    case "older":
      return {
        history: {
          ...history,
          messages: mergeMessages(history.messages, page.messages),
          olderCursor: page.nextBefore,
        },
        next: null,
      };
    case "catchup": {
      const collected = mergeMessages(request.collected, page.messages);
      const oldest = page.messages[0];
      const reachedKnown =
        oldest === undefined || page.nextBefore === null || compareKeys(keyOf(oldest), request.since) <= 0;
      const syncedKey = newestKey(collected, history.syncedKey);
      if (reachedKnown) {
        return {
          history: { ...history, messages: mergeMessages(history.messages, collected), syncedKey },
          next: null,
        };
      }
      if (request.pages + 1 >= MAX_CATCHUP_PAGES) {
        // Too much was missed to fill the gap: show the fresh window and page back from it.
        const start = keyOf(collected[0]);
        const newer = history.messages.filter((m) => compareKeys(keyOf(m), start) >= 0);
        return {
          history: {
            ...history,
            messages: mergeMessages(collected, newer),
            syncedKey,
            olderCursor: page.nextBefore,
          },
          next: null,
        };
      }
      return {
        history,
        next: { ...request, before: page.nextBefore, pages: request.pages + 1, collected },
      };
    }
  }
}
