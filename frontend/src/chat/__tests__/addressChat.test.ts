import { describe, expect, it } from "vitest";
import { addressChatDecision, chatReducer, initialState, type ChatAction, type ChatState } from "../state";
import type { ChatSummary } from "../types";
import { chatSummary, ME } from "./fakeServer";

function reduce(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}

const chat = (chatId: string): ChatSummary => chatSummary(chatId, { unreadCount: 2 });

const listed = (...ids: string[]): ChatAction => ({ type: "chatsLoaded", chats: ids.map(chat), complete: true });

describe("a chat named by the page's address (?chat=)", () => {
  it("decides: open when the user's chats have it, wait for the list, gone once listed without it", () => {
    expect(addressChatDecision("c1", { c1: chat("c1") }, false)).toBe("open");
    expect(addressChatDecision("c1", { c1: chat("c1") }, true)).toBe("open");
    expect(addressChatDecision("c1", {}, false)).toBe("wait");
    expect(addressChatDecision("c1", { c2: chat("c2") }, true)).toBe("gone");
  });

  it("shows the room until the chat list has loaded, then the chat", () => {
    let state = initialState(ME, null, "team", "c1");
    expect(state.activeRoom).toBe("team");
    expect(state.addressChat).toBe("c1");
    state = reduce(state, { type: "opened" }, { type: "chatsLoaded", chats: [chat("c2")], complete: false });
    expect(state.addressChat).toBe("c1"); // a page without it: still waiting
    state = reduce(state, listed("c2", "c1"));
    expect(state.activeRoom).toBe("chat:c1");
    expect(state.rooms["chat:c1"].unread).toBe(0);
    expect(state.addressChat).toBeNull();
    expect(state.notice).toBeNull();
  });

  it("falls back to the room with a notice when the user is not in the chat", () => {
    let state = initialState(ME, { rooms: ["general", "team"], activeRoom: "team", outbox: [] }, null, "other");
    state = reduce(state, { type: "opened" }, listed("c1"));
    expect(state.activeRoom).toBe("team");
    expect(state.rooms["chat:other"]).toBeUndefined();
    expect(state.addressChat).toBeNull();
    expect(state.notice).toMatch(/isn't available.*#team/);
  });

  it("shows a chat this browser knew at once, and leaves it with a notice if it was left elsewhere", () => {
    const saved = { rooms: ["general", "chat:c1"], activeRoom: "general", outbox: [] };
    const kept = reduce(initialState(ME, saved, null, "c1"), listed("c1"));
    expect(initialState(ME, saved, null, "c1").activeRoom).toBe("chat:c1");
    expect(kept.activeRoom).toBe("chat:c1");
    expect(kept.notice).toBeNull();
    const left = reduce(initialState(ME, saved, null, "c1"), listed());
    expect(left.activeRoom).toBe("general");
    expect(left.rooms["chat:c1"]).toBeUndefined();
    expect(left.notice).toMatch(/#general/);
  });

  it("does not fall back to a saved chat while the address names another", () => {
    const saved = { rooms: ["general", "chat:c2"], activeRoom: "chat:c2", outbox: [] };
    expect(initialState(ME, saved, null, "c1").activeRoom).toBe("general");
  });

  it("stops waiting when the reader chooses, or when the chat list cannot be read", () => {
    const chosen = reduce(initialState(ME, null, null, "c1"), { type: "roomAdded", roomId: "team" }, listed("c1"));
    expect(chosen.activeRoom).toBe("team"); // the list arriving later does not move the reader
    expect(chosen.addressChat).toBeNull();
    const failed = reduce(initialState(ME, null, null, "c1"), { type: "chatsFailed" });
    expect(failed.addressChat).toBeNull();
    expect(failed.activeRoom).toBe("general");
    expect(failed.notice).not.toBeNull();
  });

  it("Back/Forward to a chat: shown when the user's, refused at once when not", () => {
    const state = reduce(initialState(ME), { type: "opened" }, listed("c1"));
    const back = reduce(state, { type: "chatAddressed", chatId: "c1" });
    expect(back.activeRoom).toBe("chat:c1");
    expect(back.addressChat).toBeNull();
    const gone = reduce(state, { type: "chatAddressed", chatId: "left" });
    expect(gone.activeRoom).toBe("general");
    expect(gone.addressChat).toBeNull();
    expect(gone.notice).not.toBeNull();
  });
});
