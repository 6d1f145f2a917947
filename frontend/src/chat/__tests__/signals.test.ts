import { describe, expect, it } from "vitest";
import { chatReducer, initialState, type ChatAction, type ChatState } from "../state";
import { chatKey, type ChatSummary } from "../types";
import { ME, msg, OTHER } from "./fakeServer";

function reduce(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}

const chat: ChatSummary = {
  chatId: "d-1",
  type: "direct",
  name: null,
  peer: { userId: OTHER.userId, username: OTHER.username },
  createdAt: 1,
  lastActivity: 1,
  lastMessage: null,
  lastSeq: 0,
  readSeq: 0,
  unreadCount: 0,
  presence: { online: false, lastSeen: 42 },
};

describe("receipts, typing and presence in the client state", () => {
  it("keeps the highest markers told, whatever their order", () => {
    const state = reduce(
      initialState(ME),
      { type: "markersLoaded", chatId: "d-1", markers: [{ userId: OTHER.userId, deliveredSeq: 2, readSeq: 1 }] },
      {
        type: "signal",
        now: 5,
        frame: { type: "receipt", chatId: "d-1", userId: OTHER.userId, deliveredSeq: 1, readSeq: 0 },
      },
    );
    expect(state.markers["d-1"][OTHER.userId]).toEqual({ deliveredSeq: 2, readSeq: 1 });
  });

  it("shows another's typing until their message arrives, and never one's own", () => {
    const typing = (userId: string, username: string): ChatAction => ({
      type: "signal",
      now: 1000,
      frame: { type: "typing", chatId: "d-1", userId, username, state: "start", expiresInMs: 5000 },
    });
    let state = reduce(initialState(ME), { type: "chatsLoaded", chats: [chat], complete: true });
    state = reduce(state, typing(OTHER.userId, OTHER.username), typing(ME.userId, ME.username));
    expect(Object.keys(state.typing["d-1"])).toEqual([OTHER.userId]);
    state = reduce(state, { type: "frame", frame: { type: "message", ...msg(1, chatKey("d-1")) } });
    expect(state.typing["d-1"]).toEqual({});
  });

  it("takes presence from the chat list and from presence frames", () => {
    let state = reduce(initialState(ME), { type: "chatsLoaded", chats: [chat], complete: true });
    expect(state.presence[OTHER.userId]).toEqual({ online: false, lastSeen: 42 });
    state = reduce(state, {
      type: "signal",
      now: 50,
      frame: { type: "presence", userId: OTHER.userId, online: true, lastSeen: null },
    });
    expect(state.presence[OTHER.userId].online).toBe(true);
  });

  it("ignores a refused typing signal instead of showing a notice", () => {
    const state = reduce(initialState(ME), {
      type: "frame",
      frame: { type: "error", code: "RATE_LIMITED", message: "slow down", action: "typing" },
    });
    expect(state.notice).toBeNull();
  });
});
