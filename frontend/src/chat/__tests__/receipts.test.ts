import { describe, expect, it } from "vitest";
import {
  NOT_TYPING,
  TYPING_IDLE_MS,
  TYPING_RENEW_MS,
  applyTyping,
  keystroke,
  mergeMarkers,
  messageStatus,
  nextReceipt,
  parseSignal,
  presenceText,
  statusLabel,
  stopTyping,
  typingNames,
  typingStopped,
  typingText,
  type MarkerBook,
  type TypingFrame,
} from "../receipts";

const start = (userId: string, username: string, chatId = "c"): TypingFrame => ({
  type: "typing",
  chatId,
  userId,
  username,
  state: "start",
  expiresInMs: 5000,
});

describe("parseSignal", () => {
  it("reads receipt, typing and presence frames, and nothing else", () => {
    expect(
      parseSignal({ type: "receipt", chatId: "c", userId: "b", deliveredSeq: 1, readSeq: 2 }),
    ).toEqual({ type: "receipt", chatId: "c", userId: "b", deliveredSeq: 2, readSeq: 2 });
    expect(parseSignal({ ...start("b", "bob"), expiresInMs: 60_000 })).toMatchObject({
      state: "start",
      expiresInMs: 10_000,
    });
    expect(parseSignal({ type: "presence", userId: "b", online: false, lastSeen: 5 })).toEqual({
      type: "presence",
      userId: "b",
      online: false,
      lastSeen: 5,
    });
    expect(parseSignal({ type: "receipt", chatId: "c", userId: "b", readSeq: -1 })).toBeNull();
    expect(parseSignal({ type: "message", userId: "b" })).toBeNull();
    expect(parseSignal("nope")).toBeNull();
  });
});

describe("markers and ticks", () => {
  it("never moves a marker back when frames arrive out of order", () => {
    let book: MarkerBook = {};
    book = mergeMarkers(book, "c", "b", { deliveredSeq: 5, readSeq: 4 });
    book = mergeMarkers(book, "c", "b", { deliveredSeq: 2, readSeq: 1 });
    expect(book.c.b).toEqual({ deliveredSeq: 5, readSeq: 4 });
    expect(mergeMarkers(book, "c", "b", { deliveredSeq: 3, readSeq: 3 })).toBe(book);
  });

  it("shows sending, then one tick sent, two delivered, and read in a direct chat", () => {
    const markers = { b: { deliveredSeq: 3, readSeq: 2 } };
    const tick = (seq: number | null) => messageStatus(seq, "a", ["a", "b"], markers).tick;
    expect([tick(null), tick(4), tick(3), tick(2)]).toEqual(["sending", "sent", "delivered", "read"]);
    expect(statusLabel(messageStatus(2, "a", ["a", "b"], markers), false)).toBe("Read");
  });

  it("counts read by K of N in a group, and says read only when everyone read", () => {
    const markers = { b: { deliveredSeq: 5, readSeq: 5 }, c: { deliveredSeq: 5, readSeq: 1 } };
    const status = messageStatus(3, "a", ["a", "b", "c", "d"], markers);
    expect(status).toEqual({ tick: "sent", readBy: 1, deliveredTo: 2, of: 3 });
    expect(statusLabel(status, true)).toBe("Read by 1 of 3");
  });

  it("sends a receipt only to move on, and a read covers the delivered one", () => {
    let [frame, sent] = nextReceipt({}, "c", "delivered", 3);
    expect(frame).toEqual({ action: "receipt", chatId: "c", kind: "delivered", seq: 3 });
    [frame, sent] = nextReceipt(sent, "c", "delivered", 2);
    expect(frame).toBeNull();
    [frame, sent] = nextReceipt(sent, "c", "read", 5);
    expect(frame?.seq).toBe(5);
    [frame] = nextReceipt(sent, "c", "delivered", 4);
    expect(frame).toBeNull();
  });
});

describe("typing", () => {
  it("shows who is typing until the indicator expires, stops, or their message comes", () => {
    let book = applyTyping({}, start("b", "bob"), 1000);
    book = applyTyping(book, start("c", "cy"), 1000);
    expect(typingText(typingNames(book, "c", 2000))).toBe("bob and cy are typing…");
    expect(typingNames(book, "c", 6001)).toEqual([]);
    book = stopTyping(book, "c", "b");
    expect(typingText(typingNames(book, "c", 2000))).toBe("cy is typing…");
    book = applyTyping(book, { ...start("c", "cy"), state: "stop" }, 2500);
    expect(typingNames(book, "c", 2600)).toEqual([]);
  });

  it("sends a start, renews it while typing, and stops when idle, sent or moved on", () => {
    let [frames, out] = keystroke(NOT_TYPING, "c", 0);
    expect(frames).toEqual([{ action: "typing", chatId: "c", state: "start" }]);
    [frames, out] = keystroke(out, "c", TYPING_RENEW_MS - 1);
    expect(frames).toEqual([]);
    [frames, out] = keystroke(out, "c", TYPING_RENEW_MS);
    expect(frames.map((f) => f.state)).toEqual(["start"]);
    expect(typingStopped(out, TYPING_RENEW_MS + 1, false)[0]).toBeNull();
    expect(typingStopped(out, TYPING_RENEW_MS + TYPING_IDLE_MS, false)[0]?.state).toBe("stop");
    [frames] = keystroke(out, "d", TYPING_RENEW_MS + 10);
    expect(frames).toEqual([
      { action: "typing", chatId: "c", state: "stop" },
      { action: "typing", chatId: "d", state: "start" },
    ]);
  });
});

describe("presence", () => {
  it("says online, or when the user was last seen", () => {
    const now = Date.UTC(2026, 11, 1, 12);
    expect(presenceText({ online: true, lastSeen: null }, now)).toBe("online");
    expect(presenceText({ online: false, lastSeen: now - 30_000 }, now)).toBe("last seen just now");
    expect(presenceText({ online: false, lastSeen: now - 5 * 60_000 }, now)).toBe(
      "last seen 5 min ago",
    );
    expect(presenceText({ online: false, lastSeen: now - 3 * 3600_000 }, now)).toBe(
      "last seen 3 h ago",
    );
    expect(presenceText(undefined, now)).toBe("");
  });
});
