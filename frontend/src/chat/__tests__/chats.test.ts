import { describe, expect, it } from "vitest";
import { conversationList } from "../conversations";
import { chatReducer, drain, initialState, toSaved, type ChatAction, type ChatState } from "../state";
import { parseFrame, toWire, type ServerFrame } from "../types";
import { chatSummary, ME, msg } from "./fakeServer";

function reduce(state: ChatState, ...actions: ChatAction[]): ChatState {
  return actions.reduce(chatReducer, state);
}
const frame = (f: ServerFrame): ChatAction => ({ type: "frame", frame: f });

const chat = chatSummary;

describe("chats in the client (contract v2)", () => {
  it("reads a chat's frames under the conversation key chat:{chatId}", () => {
    const message = parseFrame(
      JSON.stringify({ type: "message", ...msg(1), roomId: undefined, chatId: "c1", seq: 4 }),
    );
    expect(message).toMatchObject({ type: "message", roomId: "chat:c1", seq: 4 });
    const page = parseFrame(
      JSON.stringify({ type: "messages", chatId: "c1", messages: [{ ...msg(2), roomId: undefined, chatId: "c1" }], nextBefore: null }),
    );
    expect(page).toMatchObject({ type: "messages", roomId: "chat:c1", messages: [{ roomId: "chat:c1" }] });
    const ack = parseFrame(
      JSON.stringify({ type: "ack", action: "sendMessage", chatId: "c1", clientMessageId: "x", messageId: "m", timestamp: 5, duplicate: false, seq: 2 }),
    );
    expect(ack).toMatchObject({ roomId: "chat:c1", seq: 2 });
    expect(parseFrame(JSON.stringify({ type: "chatAdded", chat: chat("c1") }))).toEqual({ type: "chatAdded", chat: chat("c1") });
    expect(parseFrame('{"type":"chatRemoved","chatId":"c1"}')).toEqual({ type: "chatRemoved", chatId: "c1" });
    expect(parseFrame('{"type":"roomJoined","roomId":"dev"}')).toEqual({ type: "roomJoined", roomId: "dev" });
    expect(parseFrame('{"type":"chatAdded","chat":{"chatId":"c1","type":"room"}}')).toBeNull();
  });

  it("sends a chat's messages and history requests with its chatId, a room's with its roomId", () => {
    expect(toWire({ action: "sendMessage", roomId: "chat:c1", message: "hi", clientMessageId: "k" })).toEqual({
      action: "sendMessage",
      chatId: "c1",
      message: "hi",
      clientMessageId: "k",
    });
    expect(toWire({ action: "getMessages", roomId: "chat:c1", limit: 50 })).toEqual({ action: "getMessages", chatId: "c1", limit: 50 });
    expect(toWire({ action: "joinRoom", roomId: "dev" })).toEqual({ action: "joinRoom", roomId: "dev" });
  });

  it("lists a chat it is added to, reads its history without joining, and counts its unread messages", () => {
    let state = reduce(initialState(ME), { type: "opened" });
    state = drain(state).state;
    state = reduce(state, frame({ type: "messages", roomId: "general", messages: [], nextBefore: null }));
    state = reduce(state, frame({ type: "chatAdded", chat: chat("c1", { unreadCount: 2 }) }));
    expect(state.rooms["chat:c1"]).toMatchObject({ joined: true, unread: 2 });
    expect(state.activeRoom).toBe("general");
    const { frames } = drain(state);
    expect(frames).toEqual([{ action: "getMessages", roomId: "chat:c1", limit: 50 }]);
    state = reduce(state, frame({ type: "message", ...msg(3, "chat:c1"), seq: 3 }));
    expect(state.rooms["chat:c1"].unread).toBe(3);
    expect(state.chats.c1.lastMessage).toMatchObject({ preview: "message 3", seq: 3 });
    expect(state.announcement?.text).toBe("other in other: message 3");
  });

  it("never sends joinRoom for a chat, also after a reconnect", () => {
    let state = reduce(initialState(ME), { type: "chatsLoaded", chats: [chat("c1")], complete: true });
    state = reduce(state, { type: "opened" });
    expect(state.rooms["chat:c1"].joined).toBe(true);
    const frames = drain(state).frames;
    expect(frames.some((f) => f.action === "joinRoom")).toBe(false);
  });

  it("opens a chat the user created and drops one the user left or was told is gone", () => {
    let state = reduce(initialState(ME), { type: "opened" }, { type: "chatOpened", chat: chat("c1") });
    expect(state.activeRoom).toBe("chat:c1");
    state = reduce(state, frame({ type: "chatRemoved", chatId: "c1" }));
    expect(state.activeRoom).toBe("general");
    expect(state.rooms["chat:c1"]).toBeUndefined();
    expect(state.chats.c1).toBeUndefined();
  });

  it("forgets a remembered chat the server's complete list no longer has, keeps one it lists", () => {
    let state = initialState(ME, { rooms: ["general", "chat:gone", "chat:kept"], activeRoom: "general", outbox: [] });
    state = reduce(state, { type: "chatsLoaded", chats: [chat("kept")], complete: true });
    expect(state.roomOrder).toEqual(["general", "chat:kept"]);
    expect(toSaved(state).rooms).toEqual(["general", "chat:kept"]);
  });

  it("adds rooms joined on another device and the server's list of the user's rooms, drops one left", () => {
    let state = reduce(initialState(ME), { type: "opened" }, frame({ type: "roomJoined", roomId: "dev" }));
    expect(state.rooms.dev.joined).toBe(true);
    state = reduce(state, { type: "roomsLoaded", roomIds: ["general", "dev", "ops"] });
    expect(state.roomOrder).toEqual(["general", "dev", "ops"]);
    expect(drain(state).frames).toContainEqual({ action: "joinRoom", roomId: "ops" });
    state = reduce(state, frame({ type: "roomLeft", roomId: "dev" }));
    expect(state.roomOrder).toEqual(["general", "ops"]);
  });

  it("orders the conversation list by activity, with previews, names and unread counts", () => {
    const rooms = [
      { id: "general", unread: 0, messages: [msg(1)] },
      { id: "chat:g", unread: 2, messages: [] },
      { id: "chat:d", unread: 0, messages: [msg(5, "chat:d")] },
    ];
    const chats = {
      g: chat("g", {
        type: "group",
        name: "Plans",
        peer: null,
        lastActivity: 1_700_000_003_000,
        lastMessage: { messageId: "m", userId: "u", username: "ann", preview: "see\\nyou", timestamp: 1_700_000_003_000, seq: 2 },
      }),
      d: chat("d"),
    };
    const list = conversationList(rooms, chats);
    expect(list.map((e) => [e.key, e.kind, e.title])).toEqual([
      ["chat:d", "direct", "other"],
      ["chat:g", "group", "Plans"],
      ["general", "room", "general"],
    ]);
    expect(list[1]).toMatchObject({ unread: 2, preview: "ann: see\\nyou" });
    expect(list[0].preview).toBe("other: message 5");
  });
});
