import { describe, expect, it } from "vitest";
import { statusLabel } from "../receipts";
import {
  REPORT_INTERVAL_MS,
  comparePositions,
  countsRefreshDelay,
  dueReports,
  isAfter,
  keepRooms,
  mergeCounts,
  newestFromOthers,
  newestOwn,
  nextDueAt,
  observe,
  parseRoomCounts,
  roomMessageStatus,
  worthRetrying,
  type ReportBook,
  type RoomCounts,
  type RoomPosition,
} from "../roomReceipts";
import { ME, msg } from "./fakeServer";

const at = (timestamp: number, messageId = "m"): RoomPosition => ({ timestamp, messageId });
const counts = (position: RoomPosition, delivered: number, read: number, of: number): RoomCounts => ({
  ...position,
  delivered,
  read,
  of,
});

describe("room positions", () => {
  it("order by timestamp, then by messageId, as the server sorts a room's history", () => {
    expect(comparePositions(at(1, "b"), at(2, "a"))).toBeLessThan(0);
    expect(comparePositions(at(2, "a"), at(2, "b"))).toBeLessThan(0);
    expect(comparePositions(at(2, "b"), at(2, "a"))).toBeGreaterThan(0);
    expect(comparePositions(at(2, "a"), at(2, "a"))).toBe(0);
    expect(isAfter(at(2, "a"), null)).toBe(true);
    expect(isAfter(at(2, "a"), at(2, "a"))).toBe(false);
    expect(isAfter(at(2, "b"), at(2, "a"))).toBe(true);
  });

  it("find the newest message of others and one's own newest", () => {
    const messages = [msg(1, "r"), msg(2, "r", ME), msg(3, "r"), msg(4, "r", ME)];
    expect(newestFromOthers(messages, ME.userId)?.messageId).toBe(msg(3).messageId);
    expect(newestOwn(messages, ME.userId)?.messageId).toBe(msg(4).messageId);
    expect(newestFromOthers([msg(2, "r", ME)], ME.userId)).toBeNull();
    expect(newestOwn([msg(1, "r")], ME.userId)).toBeNull();
  });
});

describe("reporting receipts", () => {
  it("reports a first arrival at once, then at most one per room per interval: the newest only", () => {
    let book: ReportBook = observe({}, "r", "delivered", at(1));
    let [sent, next] = dueReports(book, 1000);
    expect(sent).toEqual([{ action: "receipt", roomId: "r", kind: "delivered", messageId: "m", timestamp: 1 }]);
    book = observe(observe(next, "r", "delivered", at(2)), "r", "delivered", at(3));
    [sent, next] = dueReports(book, 1000 + REPORT_INTERVAL_MS - 1);
    expect(sent).toEqual([]);
    expect(nextDueAt(next)).toBe(1000 + REPORT_INTERVAL_MS);
    [sent, next] = dueReports(next, 1000 + REPORT_INTERVAL_MS);
    expect(sent.map((r) => r.timestamp)).toEqual([3]);
    expect(nextDueAt(next)).toBeNull();
    expect(dueReports(next, 10_000)[0]).toEqual([]);
  });

  it("never reports a position at or before one already reported", () => {
    const [, book] = dueReports(observe({}, "r", "delivered", at(5)), 0);
    const older = observe(observe(book, "r", "delivered", at(4)), "r", "delivered", at(5));
    expect(dueReports(older, 60_000)[0]).toEqual([]);
    expect(nextDueAt(older)).toBeNull();
  });

  it("prefers a pending read, and a read covers delivered up to it", () => {
    let book = observe(observe({}, "r", "delivered", at(2)), "r", "read", at(2));
    let [sent, next] = dueReports(book, 0);
    expect(sent.map((r) => r.kind)).toEqual(["read"]);
    // Delivered up to the read was implied: nothing more to say.
    book = observe(next, "r", "delivered", at(2));
    expect(dueReports(book, 60_000)[0]).toEqual([]);
    // A newer arrival is still reported as delivered, after the interval.
    book = observe(book, "r", "delivered", at(3));
    [sent, next] = dueReports(book, 60_000);
    expect(sent.map((r) => [r.kind, r.timestamp])).toEqual([["delivered", 3]]);
    expect(next.r.read).toEqual(at(2));
  });

  it("keeps rooms apart: each has its own interval", () => {
    let [, book] = dueReports(observe({}, "a", "delivered", at(1)), 0);
    book = observe(observe(book, "a", "delivered", at(2)), "b", "read", at(7));
    const [sent, next] = dueReports(book, 100);
    expect(sent.map((r) => `${r.roomId}:${r.kind}:${r.timestamp}`)).toEqual(["b:read:7"]);
    expect(nextDueAt(next)).toBe(REPORT_INTERVAL_MS);
    expect(Object.keys(keepRooms(next, new Set(["b"])))).toEqual(["b"]);
    expect(keepRooms(next, new Set(["a", "b", "c"]))).toBe(next);
  });

  it("changes nothing on an older observation", () => {
    const book = observe({}, "r", "read", at(3));
    expect(observe(book, "r", "read", at(2))).toBe(book);
    expect(observe(book, "r", "delivered", at(3))).toBe(book);
  });
});

describe("room counts", () => {
  const m1 = at(1, "a");
  const m2 = at(2, "b");

  it("parse the counts of a receipts answer, and nothing malformed", () => {
    const body = { roomId: "r", members: 3, live: false, mine: {}, counts: { ...m2, delivered: 1, read: 2, of: 2 } };
    expect(parseRoomCounts(body)).toEqual(counts(m2, 2, 2, 2));
    expect(parseRoomCounts({ ...body, counts: null })).toBeNull();
    expect(parseRoomCounts({ ...body, counts: { ...m2, delivered: 1, read: -1, of: 2 } })).toBeNull();
    expect(parseRoomCounts({ ...body, counts: { messageId: "b", delivered: 1, read: 1, of: 2 } })).toBeNull();
    expect(parseRoomCounts(null)).toBeNull();
  });

  it("merge: a newer message replaces, the same message only grows, an older one is ignored", () => {
    const known = counts(m1, 2, 1, 3);
    expect(mergeCounts(undefined, known)).toBe(known);
    expect(mergeCounts(known, counts(m2, 0, 0, 3))).toEqual(counts(m2, 0, 0, 3));
    expect(mergeCounts(counts(m2, 1, 0, 3), known)).toEqual(counts(m2, 1, 0, 3));
    expect(mergeCounts(known, counts(m1, 1, 1, 3))).toBe(known);
    expect(mergeCounts(known, counts(m1, 3, 2, 3))).toEqual(counts(m1, 3, 2, 3));
  });

  it("tick the counted message ✓ sent, ✓✓ delivered, read, with K of N", () => {
    expect(roomMessageStatus(m2, undefined)).toEqual({ tick: "sent", readBy: 0, deliveredTo: 0, of: 0 });
    expect(roomMessageStatus(m2, counts(m2, 1, 0, 2))).toEqual({ tick: "sent", readBy: 0, deliveredTo: 1, of: 2 });
    expect(roomMessageStatus(m2, counts(m2, 2, 1, 2))).toEqual({ tick: "delivered", readBy: 1, deliveredTo: 2, of: 2 });
    expect(roomMessageStatus(m2, counts(m2, 2, 2, 2))).toEqual({ tick: "read", readBy: 2, deliveredTo: 2, of: 2 });
    expect(statusLabel(roomMessageStatus(m2, counts(m2, 1, 0, 2)), true)).toBe("Delivered to 1 of 2");
    expect(statusLabel(roomMessageStatus(m2, counts(m2, 2, 1, 2)), true)).toBe("Read by 1 of 2");
    // Alone in the room: nobody to deliver to.
    expect(roomMessageStatus(m2, counts(m2, 0, 0, 0)).tick).toBe("sent");
  });

  it("tick an older own message by what everyone reached, a newer one ✓ sent", () => {
    expect(roomMessageStatus(m1, counts(m2, 2, 2, 2)).tick).toBe("read");
    expect(roomMessageStatus(m1, counts(m2, 2, 1, 2))).toEqual({ tick: "delivered", readBy: 0, deliveredTo: 2, of: 2 });
    expect(roomMessageStatus(m1, counts(m2, 1, 1, 2)).tick).toBe("sent");
    expect(roomMessageStatus(m2, counts(m1, 2, 2, 2)).tick).toBe("sent");
  });
});

describe("asking for counts", () => {
  it("asks again soon after a message, then every 15 s", () => {
    expect([0, 1, 2, 3, 50].map(countsRefreshDelay)).toEqual([2000, 3000, 15_000, 15_000, 15_000]);
  });

  it("stops on a refusal, goes on after a passing failure", () => {
    expect([403, 400, 404].map(worthRetrying)).toEqual([false, false, false]);
    expect([undefined, 429, 500, 503].map(worthRetrying)).toEqual([true, true, true, true]);
  });
});
