import { describe, expect, it } from "vitest";
import {
  discard,
  dropRoom,
  enqueue,
  failInFlight,
  markSending,
  newClientMessageId,
  nextToSend,
  requeueInFlight,
  retry,
  settle,
  type Outbox,
  type OutgoingMessage,
} from "../outbox";

function item(id: string, roomId = "general"): OutgoingMessage {
  return { clientMessageId: id, roomId, text: `text ${id}`, createdAt: 0, state: "queued" };
}
const always = () => true;

describe("outbox", () => {
  it("sends in the order typed, one at a time", () => {
    let box: Outbox = enqueue(enqueue([], item("a")), item("b"));
    expect(nextToSend(box, always)?.clientMessageId).toBe("a");
    box = markSending(box, "a");
    expect(nextToSend(box, always)).toBeUndefined();
    box = settle(box, "a")[0];
    expect(nextToSend(box, always)?.clientMessageId).toBe("b");
  });

  it("holds messages of a room not joined yet, without blocking other rooms", () => {
    const box: Outbox = [item("a", "later"), item("b", "general")];
    expect(nextToSend(box, (room) => room === "general")?.clientMessageId).toBe("b");
    expect(nextToSend(box, () => false)).toBeUndefined();
  });

  it("puts the message in flight back in the queue when the connection drops", () => {
    const box = requeueInFlight(markSending([item("a"), item("b")], "a"));
    expect(box.map((m) => m.state)).toEqual(["queued", "queued"]);
    expect(nextToSend(box, always)?.clientMessageId).toBe("a");
  });

  it("settles a message once: a second ack finds nothing", () => {
    const [box, sent] = settle([item("a")], "a");
    expect(sent?.text).toBe("text a");
    expect(settle(box, "a")[1]).toBeUndefined();
  });

  it("keeps a refused message as failed until retried or discarded", () => {
    let box = failInFlight(markSending([item("a"), item("b")], "a"), "too long");
    expect(box[0]).toMatchObject({ state: "failed", error: "too long" });
    expect(nextToSend(box, always)?.clientMessageId).toBe("b");
    box = retry(box, "a");
    expect(box[0].state).toBe("queued");
    expect(discard(box, "a").map((m) => m.clientMessageId)).toEqual(["b"]);
  });

  it("drops the messages of a room the user left", () => {
    expect(dropRoom([item("a", "x"), item("b")], "x").map((m) => m.clientMessageId)).toEqual(["b"]);
  });

  it("makes clientMessageIds the server accepts", () => {
    const id = newClientMessageId();
    expect(id).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
    expect(newClientMessageId()).not.toBe(id);
    expect(newClientMessageId(() => "a b/c".repeat(40))).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
  });
});
