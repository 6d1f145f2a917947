import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatClient } from "../client";
import { REPORT_INTERVAL_MS } from "../roomReceipts";
import type { ChatMessage } from "../types";
import { FakeServer, ME } from "./fakeServer";

function setup() {
  const server = new FakeServer(ME);
  const client = new ChatClient({
    wsUrl: "ws://stage/dev",
    token: "t",
    me: ME,
    createSocket: server.createSocket,
    random: () => 0,
  });
  client.start();
  server.last.accept();
  return { server, client };
}

interface Sent {
  action: string;
  roomId?: string;
  kind?: string;
  messageId?: string;
  timestamp?: number;
}

/** The room receipts the client sent on its current socket, as `room:kind:message text`. */
function receipts(server: FakeServer): string[] {
  const text = (roomId: string, messageId: string) =>
    server.messages(roomId).find((m: ChatMessage) => m.messageId === messageId)?.message ?? "?";
  return (server.last.sent as Sent[])
    .filter((f) => f.action === "receipt")
    .map((f) => {
      const stored = server.messages(f.roomId!).find((m) => m.messageId === f.messageId);
      expect(f.timestamp).toBe(stored?.timestamp);
      return `${f.roomId}:${f.kind}:${text(f.roomId!, f.messageId!)}`;
    });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChatClient room receipts", () => {
  it("reports arrivals in a room not on screen as delivered: the first at once, then the newest every interval", () => {
    const { server, client } = setup();
    client.joinRoom("dev"); // dev is shown; general is not
    server.post("general", "one");
    expect(receipts(server)).toEqual(["general:delivered:one"]);
    server.post("general", "two");
    server.post("general", "three");
    expect(receipts(server)).toEqual(["general:delivered:one"]);
    vi.advanceTimersByTime(REPORT_INTERVAL_MS);
    expect(receipts(server)).toEqual(["general:delivered:one", "general:delivered:three"]);
    vi.advanceTimersByTime(10 * REPORT_INTERVAL_MS);
    expect(receipts(server)).toHaveLength(2);
  });

  it("reports the newest message shown as read, never one's own messages", () => {
    const { server, client } = setup();
    server.post("general", "hello");
    expect(receipts(server)).toEqual(["general:read:hello"]);
    client.send("mine");
    vi.advanceTimersByTime(10 * REPORT_INTERVAL_MS);
    expect(server.messages("general").map((m) => m.message)).toEqual(["hello", "mine"]);
    expect(receipts(server)).toEqual(["general:read:hello"]);
  });

  it("reads nothing while the page is in the background, and reads on coming back", () => {
    const { server, client } = setup();
    client.setVisible(false);
    server.post("general", "while away");
    expect(receipts(server)).toEqual(["general:delivered:while away"]);
    vi.advanceTimersByTime(10 * REPORT_INTERVAL_MS);
    client.setVisible(true);
    expect(receipts(server)).toEqual(["general:delivered:while away", "general:read:while away"]);
  });

  it("reads a room's messages when it is selected", () => {
    const { server, client } = setup();
    client.joinRoom("dev");
    server.post("general", "elsewhere");
    vi.advanceTimersByTime(10 * REPORT_INTERVAL_MS);
    client.selectRoom("general");
    expect(receipts(server)).toEqual(["general:delivered:elsewhere", "general:read:elsewhere"]);
  });

  it("keeps what it could not send while disconnected and sends it once connected again", () => {
    const { server, client } = setup();
    client.joinRoom("dev");
    server.post("general", "before the drop");
    server.last.drop();
    // Caught up on reconnecting: the history brings a message that arrived meanwhile.
    server.post("general", "during the drop");
    vi.advanceTimersByTime(60_000);
    server.last.accept();
    expect(receipts(server)).toEqual(["general:delivered:during the drop"]);
  });

  it("sends no room receipt for a chat's messages", () => {
    const { server, client } = setup();
    client.openChat({
      chatId: "c1",
      type: "direct",
      name: null,
      peer: { userId: "u-other", username: "other" },
      createdAt: 0,
      lastActivity: 0,
      lastMessage: null,
      lastSeq: 0,
      readSeq: 0,
      unreadCount: 0,
    });
    server.last.rooms.add("chat:c1"); // a chat's messages reach every connection of its people
    server.post("chat:c1", "in a chat");
    expect(client.getState().rooms["chat:c1"].messages.map((m) => m.message)).toEqual(["in a chat"]);
    vi.advanceTimersByTime(10 * REPORT_INTERVAL_MS);
    expect(receipts(server)).toEqual([]);
  });

  it("shows nothing and stays quiet when the server refuses a receipt", () => {
    const { server, client } = setup();
    server.post("general", "hello");
    const before = client.getState();
    server.last.deliver({ type: "error", code: "VALIDATION_ERROR", message: "unknown field roomId", action: "receipt" });
    server.last.deliver({ type: "error", code: "NOT_IN_ROOM", message: "not in room", action: "receipt" });
    expect(client.getState().notice).toBeNull();
    expect(client.getState().rooms).toBe(before.rooms);
  });
});
