import { describe, expect, it } from "vitest";
import {
  applyPage,
  MAX_CATCHUP_PAGES,
  refreshRequest,
  requestFrame,
  type HistoryRequest,
  type RoomHistory,
} from "../history";
import { keyOf } from "../messages";
import type { ChatMessage } from "../types";
import { cursor, msg } from "./fakeServer";

const ids = (list: ChatMessage[]) => list.map((m) => Number(m.messageId.slice(-12)));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));

/** The server's answer: the newest ``limit`` of ``all`` older than ``before``. */
function serve(all: ChatMessage[], limit: number, before?: string | null) {
  const older = before ? all.filter((m) => cursor(m) < before) : all;
  const messages = older.slice(Math.max(0, older.length - limit));
  return { messages, nextBefore: older.length > limit ? cursor(messages[0]) : null };
}

/** Run a request and its follow-ups against ``all`` until the room is done. */
function run(history: RoomHistory, request: HistoryRequest, all: ChatMessage[]) {
  let current: HistoryRequest | null = request;
  let pages = 0;
  while (current !== null) {
    const frame = requestFrame(current);
    if (frame.action !== "getMessages") throw new Error("not a history request");
    const outcome = applyPage(history, current, serve(all, frame.limit, frame.before));
    history = outcome.history;
    current = outcome.next;
    pages += 1;
  }
  return { history, pages };
}

const empty: RoomHistory = { messages: [], syncedKey: null, historyLoaded: false, olderCursor: null };

describe("history", () => {
  it("loads the latest page first and keeps the cursor for the page before it", () => {
    const all = range(1, 120);
    const { history } = run(empty, refreshRequest("general", empty), all);
    expect(ids(history.messages)).toEqual(ids(range(71, 120)));
    expect(history.historyLoaded).toBe(true);
    expect(history.olderCursor).toBe(cursor(msg(71)));
  });

  it("pages back to the first message without repeating or skipping one", () => {
    const all = range(1, 120);
    let { history } = run(empty, refreshRequest("general", empty), all);
    while (history.olderCursor !== null) {
      history = run(history, { kind: "older", roomId: "general", before: history.olderCursor }, all).history;
    }
    expect(ids(history.messages)).toEqual(ids(all));
  });

  it("after a reconnect, fetches what was missed and meets the messages it had", () => {
    const had = range(1, 50);
    const before: RoomHistory = { ...empty, messages: had, syncedKey: keyOf(msg(50)), historyLoaded: true };
    const all = range(1, 180); // 130 missed: more than one catch-up page
    const { history, pages } = run(before, refreshRequest("general", before), all);
    expect(pages).toBe(2);
    expect(ids(history.messages)).toEqual(ids(all));
    expect(history.syncedKey).toEqual(keyOf(msg(180)));
  });

  it("a catch-up with nothing missed changes nothing", () => {
    const had = range(1, 10);
    const before: RoomHistory = { ...empty, messages: had, syncedKey: keyOf(msg(10)), historyLoaded: true };
    const { history, pages } = run(before, refreshRequest("general", before), had);
    expect(pages).toBe(1);
    expect(history.messages).toBe(had);
  });

  it("merges live messages that arrived during the catch-up without doubling them", () => {
    const live = [msg(1), msg(2), msg(60)]; // 60 came live while the catch-up ran
    const before: RoomHistory = { ...empty, messages: live, syncedKey: keyOf(msg(2)), historyLoaded: true };
    const { history } = run(before, refreshRequest("general", before), range(1, 60));
    expect(ids(history.messages)).toEqual(ids(range(1, 60)));
  });

  it("past the page cap, shows the fresh window instead of leaving a gap", () => {
    const had = range(1, 5);
    const before: RoomHistory = {
      ...empty,
      messages: had,
      syncedKey: keyOf(msg(5)),
      historyLoaded: true,
      olderCursor: "x",
    };
    const total = 5 + MAX_CATCHUP_PAGES * 100 + 50;
    const { history, pages } = run(before, refreshRequest("general", before), range(1, total));
    expect(pages).toBe(MAX_CATCHUP_PAGES);
    const shown = ids(history.messages);
    expect(shown[shown.length - 1]).toBe(total);
    expect(shown).toEqual(ids(range(shown[0], total)));
    expect(history.olderCursor).toBe(cursor(msg(shown[0])));
    // ...and scrolling up from there still meets the old messages.
    let h = history;
    while (h.olderCursor !== null) {
      h = run(h, { kind: "older", roomId: "general", before: h.olderCursor }, range(1, total)).history;
    }
    expect(ids(h.messages)).toEqual(ids(range(1, total)));
  });

  it("ignores the answer to a keepalive", () => {
    const before: RoomHistory = { ...empty, messages: [msg(1)], historyLoaded: true };
    const outcome = applyPage(before, { kind: "keepalive", roomId: "general" }, serve(range(1, 9), 1));
    expect(outcome.history).toBe(before);
    expect(outcome.next).toBeNull();
  });

  it("asks for pages within the server's limits", () => {
    for (const request of [
      refreshRequest("r", empty),
      { kind: "keepalive", roomId: "r" } as const,
      { kind: "older", roomId: "r", before: "c" } as const,
      refreshRequest("r", { ...empty, historyLoaded: true, syncedKey: keyOf(msg(1)) }),
    ]) {
      const frame = requestFrame(request);
      expect(frame.action).toBe("getMessages");
      if (frame.action === "getMessages") expect(frame.limit).toBeGreaterThanOrEqual(1);
      if (frame.action === "getMessages") expect(frame.limit).toBeLessThanOrEqual(100);
    }
  });
});
