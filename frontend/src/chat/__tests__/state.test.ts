import { describe, expect, it } from "vitest";
import { chatReducer, drain, initialState, toSaved, type ChatAction, type ChatState } from "../state";
import type { ClientFrame, ServerFrame } from "../types";
import { ME, msg, OTHER } from "./fakeServer";

function reduce(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}
const frame = (f: ServerFrame): ChatAction => ({ type: "frame", frame: f });
function drained(state: ChatState): [ChatState, ClientFrame[]] {
  const out = drain(state);
  return [out.state, out.frames];
}

describe("chatReducer and drain", () => {
  it("starts in general, restoring saved rooms and putting a message in flight back in the queue", () => {
    const state = initialState(ME, {
      rooms: ["general", "dev", "dev"],
      activeRoom: "dev",
      outbox: [{ clientMessageId: "c1", roomId: "dev", text: "hi", createdAt: 1, state: "sending" }],
    });
    expect(state.roomOrder).toEqual(["general", "dev"]);
    expect(state.activeRoom).toBe("dev");
    expect(state.outbox[0].state).toBe("queued");
  });

  it("shows the room named in the address, added to the saved rooms when it is new", () => {
    const saved = { rooms: ["dev"], activeRoom: "dev" };
    expect(initialState(ME, saved, "ops")).toMatchObject({ roomOrder: ["general", "dev", "ops"], activeRoom: "ops" });
    expect(initialState(ME, saved, "general")).toMatchObject({ roomOrder: ["general", "dev"], activeRoom: "general" });
    expect(initialState(ME, saved, null).activeRoom).toBe("dev");
  });

  it("goes offline on the browser's word without counting a failed attempt", () => {
    const state = reduce(initialState(ME), { type: "opened" }, { type: "closed", retryAt: null, offline: true });
    expect(state.status).toBe("offline");
    expect(state.failures).toBe(0);
    expect(state.rooms.general.joined).toBe(false);
  });

  it("on a new connection joins rooms one at a time and fetches history only for joined rooms", () => {
    let state = reduce(initialState(ME, { rooms: ["dev", "ops"], activeRoom: "dev" }), { type: "opened" });
    expect(state.rooms.general.joined).toBe(true);
    expect(state.history.queue.map((r) => r.roomId)).toEqual(["dev", "general", "ops"]);
    let frames: ClientFrame[];
    [state, frames] = drained(state);
    expect(frames).toEqual([
      { action: "joinRoom", roomId: "dev" },
      { action: "getMessages", roomId: "general", limit: 50 },
    ]);
    [state, frames] = drained(reduce(state, frame({ type: "ack", action: "joinRoom", roomId: "dev" })));
    expect(frames).toEqual([{ action: "joinRoom", roomId: "ops" }]);
    state = reduce(state, frame({ type: "messages", roomId: "general", messages: [msg(1)], nextBefore: null }));
    [state, frames] = drained(state);
    expect(frames).toEqual([{ action: "getMessages", roomId: "dev", limit: 50 }]);
    expect(state.rooms.general.messages).toHaveLength(1);
  });

  it("shows an acknowledged message at once and does not double it when its broadcast follows", () => {
    let state = reduce(initialState(ME), { type: "opened" });
    state = reduce(state, {
      type: "messageQueued",
      message: { clientMessageId: "c1", roomId: "general", text: "hello", createdAt: 0, state: "queued" },
    });
    let frames: ClientFrame[];
    [state, frames] = drained(state);
    expect(frames).toContainEqual({ action: "sendMessage", roomId: "general", message: "hello", clientMessageId: "c1" });
    const stored = { ...msg(9, "general", ME), message: "hello", clientMessageId: "c1" };
    state = reduce(
      state,
      frame({ type: "ack", action: "sendMessage", roomId: "general", clientMessageId: "c1", messageId: stored.messageId, timestamp: stored.timestamp, duplicate: false }),
    );
    expect(state.outbox).toEqual([]);
    expect(state.rooms.general.messages.map((m) => m.message)).toEqual(["hello"]);
    state = reduce(state, frame({ type: "message", ...stored }));
    expect(state.rooms.general.messages).toHaveLength(1);
  });

  it("counts unread messages of other rooms and announces others' messages, not one's own", () => {
    let state = reduce(initialState(ME, { rooms: ["dev"] }), { type: "opened" });
    state = reduce(state, frame({ type: "message", ...msg(1, "dev") }), frame({ type: "message", ...msg(2, "dev") }));
    expect(state.rooms.dev.unread).toBe(2);
    expect(state.announcement?.text).toBe(`${OTHER.username} in #dev: message 2`);
    state = reduce(state, frame({ type: "message", ...msg(3, "general", ME) }));
    expect(state.announcement?.text).toBe(`${OTHER.username} in #dev: message 2`);
    state = reduce(state, { type: "roomSelected", roomId: "dev" });
    expect(state.rooms.dev.unread).toBe(0);
    state = reduce(state, frame({ type: "message", ...msg(1, "dev") }));
    expect(state.rooms.dev.unread).toBe(0);
  });

  it("counts what a catch-up brings after a reconnect as unread, in a room not on screen", () => {
    let state = reduce(initialState(ME, { rooms: ["dev"] }), { type: "opened" });
    state = drain(state).state;
    state = reduce(state, frame({ type: "ack", action: "joinRoom", roomId: "dev" }));
    for (const roomId of ["general", "dev"]) {
      state = drain(state).state;
      state = reduce(state, frame({ type: "messages", roomId, messages: [msg(1, roomId)], nextBefore: null }));
    }
    expect(state.rooms.dev.historyLoaded).toBe(true);
    expect(state.rooms.dev.unread).toBe(0);
    state = reduce(state, { type: "closed", retryAt: null, offline: true }, { type: "opened" });
    state = reduce(state, frame({ type: "ack", action: "joinRoom", roomId: "dev" }));
    const missed = [msg(1, "dev"), msg(2, "dev"), msg(3, "dev", ME), msg(4, "dev")];
    for (let i = 0; i < 4 && state.history.inFlight?.roomId !== "dev"; i++) {
      state = drain(state).state;
      const asked = state.history.inFlight;
      if (asked !== null && asked.roomId !== "dev") {
        state = reduce(state, frame({ type: "messages", roomId: asked.roomId, messages: [], nextBefore: null }));
      }
    }
    expect(state.history.inFlight).toMatchObject({ roomId: "dev", kind: "catchup" });
    state = reduce(state, frame({ type: "messages", roomId: "dev", messages: missed, nextBefore: null }));
    expect(state.rooms.dev.messages).toHaveLength(4);
    expect(state.rooms.dev.unread).toBe(2); // 2 and 4: 1 was known, 3 is one's own
  });

  it("a refused join removes the room and says why", () => {
    let state = reduce(initialState(ME), { type: "opened" }, { type: "roomAdded", roomId: "r51" });
    [state] = drained(state);
    expect(state.rooms.r51.joining).toBe(true);
    state = reduce(state, frame({ type: "error", code: "TOO_MANY_ROOMS", message: "at most 50 rooms", action: "joinRoom" }));
    expect(state.roomOrder).toEqual(["general"]);
    expect(state.activeRoom).toBe("general");
    expect(state.notice).toContain("at most 50 rooms");
  });

  it("a refused message is kept as failed and the next one goes out", () => {
    let state = reduce(initialState(ME), { type: "opened" });
    for (const id of ["c1", "c2"]) {
      state = reduce(state, {
        type: "messageQueued",
        message: { clientMessageId: id, roomId: "general", text: id, createdAt: 0, state: "queued" },
      });
    }
    [state] = drained(state);
    state = reduce(state, frame({ type: "error", code: "VALIDATION_ERROR", message: "too long", action: "sendMessage" }));
    const [, frames] = drained(state);
    expect(state.outbox[0]).toMatchObject({ clientMessageId: "c1", state: "failed", error: "too long" });
    expect(frames).toContainEqual({ action: "sendMessage", roomId: "general", message: "c2", clientMessageId: "c2" });
  });

  it("sends nothing while disconnected, and forgets what was in flight", () => {
    let state = reduce(initialState(ME), { type: "opened" });
    [state] = drained(state);
    expect(state.history.inFlight).not.toBeNull();
    state = reduce(state, { type: "closed", retryAt: 123 }, {
      type: "messageQueued",
      message: { clientMessageId: "c1", roomId: "general", text: "x", createdAt: 0, state: "queued" },
    });
    expect(state.history.inFlight).toBeNull();
    expect(drained(state)[1]).toEqual([]);
    expect(toSaved(state).outbox).toHaveLength(1);
  });

  it("asks for an older page only when there is one and none is loading", () => {
    let state = reduce(initialState(ME), { type: "opened" });
    [state] = drained(state);
    state = reduce(state, frame({ type: "messages", roomId: "general", messages: [msg(51)], nextBefore: "cursor-51" }));
    state = reduce(state, { type: "olderRequested", roomId: "general" }, { type: "olderRequested", roomId: "general" });
    const [, frames] = drained(state);
    expect(frames).toEqual([{ action: "getMessages", roomId: "general", limit: 50, before: "cursor-51" }]);
  });
});

describe("room counts in the state", () => {
  const counts = (n: number, read: number) => ({ ...msg(n, "dev", ME), delivered: read, read, of: 2 });

  it("keeps the counts of the newest message asked for, per room, and forgets them with the room", () => {
    const start = reduce(initialState(ME, { rooms: ["dev"] }), { type: "opened" });
    let state = reduce(start, { type: "roomCountsLoaded", roomId: "dev", counts: counts(2, 1) });
    expect(state.roomCounts.dev).toMatchObject({ read: 1, of: 2 });
    // An answer about an older message, arriving late, changes nothing.
    expect(reduce(state, { type: "roomCountsLoaded", roomId: "dev", counts: counts(1, 0) })).toBe(state);
    state = reduce(state, { type: "roomCountsLoaded", roomId: "dev", counts: counts(2, 2) });
    expect(state.roomCounts.dev.read).toBe(2);
    // Not for a room one is not in, nor for a chat.
    expect(reduce(state, { type: "roomCountsLoaded", roomId: "ops", counts: counts(3, 1) })).toBe(state);
    state = reduce(state, { type: "roomRemoved", roomId: "dev" });
    expect(state.roomCounts.dev).toBeUndefined();
  });
});
