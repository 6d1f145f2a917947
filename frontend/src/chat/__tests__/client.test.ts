import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatClient, KEEPALIVE_MS, savedChatKey, type KeyValueStore } from "../client";
import { totalUnread } from "../state";
import { FakeServer, ME } from "./fakeServer";

function memoryStorage(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}

function setup(options: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}) {
  const server = new FakeServer(ME);
  const client = new ChatClient({
    wsUrl: "ws://stage/dev",
    token: "tok en",
    me: ME,
    createSocket: server.createSocket,
    random: () => 0,
    ...options,
  });
  return { server, client };
}

const shown = (client: ChatClient, room = "general") =>
  client.getState().rooms[room].messages.map((m) => m.messageId);
const stored = (server: FakeServer, room = "general") => server.messages(room).map((m) => m.messageId);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ChatClient", () => {
  it("connects with the token and loads the latest history of general", () => {
    const { server, client } = setup();
    server.post("general", "before");
    client.start();
    expect(server.last.url).toBe("ws://stage/dev?token=tok%20en");
    expect(client.getState().status).toBe("connecting");
    server.last.accept();
    expect(client.getState().status).toBe("connected");
    // The message shown is reported read (a room receipt).
    expect(server.last.actions()).toEqual(["getMessages:general", "receipt:general"]);
    expect(client.getState().rooms.general.messages.map((m) => m.message)).toEqual(["before"]);
  });

  it("after a drop, reconnects with backoff, re-joins its rooms and catches up with no gap and no duplicate", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    client.joinRoom("dev");
    for (let i = 0; i < 3; i += 1) server.post("general", `live ${i}`);
    server.post("dev", "dev live");
    const first = server.last;

    first.drop();
    const state = client.getState();
    expect(state.status).toBe("disconnected");
    expect(state.retryAt).toBe(Date.now() + 500);
    for (let i = 0; i < 150; i += 1) server.post("general", `missed ${i}`); // more than a catch-up page
    server.post("dev", "dev missed");

    vi.advanceTimersByTime(499);
    expect(server.sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(server.sockets).toHaveLength(2);
    expect(client.getState().status).toBe("connecting");
    server.last.accept();

    expect(server.last.actions()).toEqual([
      "joinRoom:dev",
      "getMessages:general", // joined from the start: no need to wait
      "getMessages:general", // a second page: 150 missed
      "getMessages:dev", // only once its join is acknowledged
    ]);
    expect(shown(client)).toEqual(stored(server));
    expect(shown(client, "dev")).toEqual(stored(server, "dev"));
    expect(client.getState().status).toBe("connected");
  });

  it("queues messages typed while disconnected and sends each once after reconnecting", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    server.last.drop();
    client.send("one");
    client.send("two\nlines");
    expect(client.getState().outbox.map((m) => m.state)).toEqual(["queued", "queued"]);

    vi.advanceTimersByTime(500);
    server.last.accept();

    expect(server.messages("general").map((m) => m.message)).toEqual(["one", "two\nlines"]);
    expect(client.getState().outbox).toEqual([]);
    expect(client.getState().rooms.general.messages.map((m) => m.message)).toEqual(["one", "two\nlines"]);
  });

  it("resends a message whose ack was lost with the same clientMessageId, and it is stored and shown once", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    const socket = server.last;
    socket.deliver = () => {}; // the server handles frames, but the client hears nothing more
    client.send("exactly once");
    const sent = socket.sent.find((f) => f.action === "sendMessage");
    socket.drop();

    vi.advanceTimersByTime(500);
    server.last.accept();

    const resent = server.last.sent.find((f) => f.action === "sendMessage");
    expect(resent).toEqual(sent);
    expect(server.messages("general").map((m) => m.message)).toEqual(["exactly once"]);
    expect(client.getState().rooms.general.messages.map((m) => m.message)).toEqual(["exactly once"]);
    expect(client.getState().outbox).toEqual([]);
  });

  it("backs off further while the server is unreachable and starts over once a connection works", () => {
    const { server, client } = setup();
    client.start();
    const delays: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      server.last.drop();
      delays.push(client.getState().retryAt! - Date.now());
      vi.advanceTimersByTime(delays[i]);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000]);
    expect(client.getState().failures).toBe(4);
    server.last.accept(); // answers getMessages: the connection works
    expect(client.getState().failures).toBe(0);
    server.last.drop();
    expect(client.getState().retryAt! - Date.now()).toBe(500);
  });

  it("gives up on a handshake that never completes", () => {
    const { server, client } = setup({ connectTimeoutMs: 10_000 });
    client.start();
    vi.advanceTimersByTime(10_000);
    expect(client.getState().status).toBe("disconnected");
    vi.advanceTimersByTime(500);
    expect(server.sockets).toHaveLength(2);
  });

  it("reconnects at once on retryNow instead of waiting out the backoff", () => {
    const { server, client } = setup({ random: () => 0 });
    client.start();
    server.last.drop();
    client.retryNow();
    expect(server.sockets).toHaveLength(2);
  });

  it("on the browser's offline event closes the connection, says offline and waits for online", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    client.setOnline(false);
    expect(client.getState().status).toBe("offline");
    expect(server.last.readyState).toBe(3);
    client.send("typed offline");
    vi.advanceTimersByTime(60_000);
    expect(server.sockets).toHaveLength(1); // no attempts while offline
    expect(client.getState().outbox.map((m) => m.text)).toEqual(["typed offline"]);

    client.setOnline(true);
    expect(server.sockets).toHaveLength(2);
    server.last.accept();
    expect(client.getState().status).toBe("connected");
    expect(server.messages("general").map((m) => m.message)).toEqual(["typed offline"]);
  });

  it("starts offline when the browser has no network, and connects when it comes back", () => {
    const { server, client } = setup({ online: () => false });
    client.start();
    expect(client.getState().status).toBe("offline");
    expect(server.sockets).toHaveLength(0);
    client.setOnline(true);
    server.last.accept();
    expect(client.getState().status).toBe("connected");
  });

  it("counts others' messages in the room on screen as unread while the page is in the background", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    server.post("general", "seen");
    client.setVisible(false);
    server.post("general", "while away 1");
    server.post("general", "while away 2");
    expect(totalUnread(client.getState())).toBe(2);
    client.setVisible(true);
    expect(totalUnread(client.getState())).toBe(0);
  });

  it("opens the room named in the page's address, joining it first", () => {
    const { server, client } = setup({ openRoom: "team" });
    client.start();
    server.last.accept();
    expect(client.getState().activeRoom).toBe("team");
    expect(server.last.actions()[0]).toBe("joinRoom:team");
  });

  it("sends a keepalive frame every few minutes so the gateway does not close an idle connection", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    const before = server.last.sent.length;
    vi.advanceTimersByTime(KEEPALIVE_MS);
    expect(server.last.sent.slice(before)).toEqual([{ action: "getMessages", roomId: "general", limit: 1 }]);
    vi.advanceTimersByTime(KEEPALIVE_MS);
    expect(server.last.sent.length).toBe(before + 2);
    expect(client.getState().rooms.general.messages).toEqual([]);
  });

  it("does not reconnect once the token has expired, and reports it", () => {
    const expired = vi.fn();
    const { server, client } = setup({ tokenExpired: () => true, onSessionExpired: expired });
    client.start();
    server.last.accept();
    server.last.drop();
    vi.advanceTimersByTime(60_000);
    expect(server.sockets).toHaveLength(1);
    expect(expired).toHaveBeenCalledOnce();
  });

  it("stop() closes the socket for good", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    client.stop();
    vi.advanceTimersByTime(60_000);
    expect(server.sockets).toHaveLength(1);
    expect(server.last.readyState).toBe(3);
  });

  it("leaving a room tells the server and forgets the room", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    client.joinRoom("dev");
    client.leaveRoom("dev");
    expect(server.last.actions()).toContain("leaveRoom:dev");
    expect(client.getState().roomOrder).toEqual(["general"]);
    client.leaveRoom("general");
    expect(client.getState().roomOrder).toEqual(["general"]);
  });

  it("keeps rooms and unsent messages in storage across a reload", () => {
    const storage = memoryStorage();
    const first = setup({ storage });
    first.client.start();
    first.server.last.accept();
    first.client.joinRoom("dev");
    first.server.last.drop();
    first.client.send("later", "dev");
    first.client.stop();
    expect(storage.data.has(savedChatKey(ME.userId))).toBe(true);

    const second = setup({ storage });
    second.client.start();
    second.server.last.accept();
    expect(second.client.getState().roomOrder).toEqual(["general", "dev"]);
    expect(second.server.messages("dev").map((m) => m.message)).toEqual(["later"]);
  });

  it("ignores frames that are not JSON or not understood", () => {
    const { server, client } = setup();
    client.start();
    server.last.accept();
    const before = client.getState();
    server.last.onmessage?.({ data: "not json" });
    server.last.onmessage?.({ data: JSON.stringify({ type: "surprise" }) });
    expect(client.getState()).toBe(before);
  });
});
