import { describe, expect, it } from "vitest";
import { compareKeys, mergeMessages, newestKey } from "../messages";
import { msg } from "./fakeServer";

const ids = (list: { messageId: string }[]) => list.map((m) => Number(m.messageId.slice(-12)));

describe("mergeMessages", () => {
  it("appends newer messages in order", () => {
    expect(ids(mergeMessages([msg(1), msg(2)], [msg(4), msg(3)]))).toEqual([1, 2, 3, 4]);
  });

  it("keeps each messageId once", () => {
    const merged = mergeMessages([msg(1), msg(2), msg(3)], [msg(2), msg(3), msg(4), msg(4)]);
    expect(ids(merged)).toEqual([1, 2, 3, 4]);
  });

  it("puts an older page in front and interleaves by timestamp", () => {
    expect(ids(mergeMessages([msg(5), msg(8)], [msg(1), msg(6), msg(2)]))).toEqual([1, 2, 5, 6, 8]);
  });

  it("returns the same array when nothing is new, so a render can be skipped", () => {
    const existing = [msg(1), msg(2)];
    expect(mergeMessages(existing, [msg(2), msg(1)])).toBe(existing);
    expect(mergeMessages(existing, [])).toBe(existing);
  });

  it("orders messages of the same millisecond by messageId, as the server's sort key does", () => {
    const a = { ...msg(2), timestamp: 5 };
    const b = { ...msg(1), timestamp: 5 };
    expect(ids(mergeMessages([a], [b]))).toEqual([1, 2]);
    expect(compareKeys(b, a)).toBeLessThan(0);
  });
});

describe("newestKey", () => {
  it("is the newest of the messages and the key given", () => {
    expect(newestKey([msg(3), msg(1)])?.messageId).toBe(msg(3).messageId);
    expect(newestKey([msg(1)], msg(7))?.messageId).toBe(msg(7).messageId);
    expect(newestKey([])).toBeNull();
  });
});
