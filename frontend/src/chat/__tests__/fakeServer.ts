/** An in-memory chat server speaking the contract's frames over fake sockets, for client tests. */

import type { SocketLike } from "../client";
import type { ChatMessage, ChatSummary, ClientFrame, ServerFrame, User } from "../types";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

export class FakeSocket implements SocketLike {
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  /** Frames the client sent, parsed. */
  readonly sent: ClientFrame[] = [];
  rooms = new Set<string>(["general"]);
  /** While false, frames from the client are recorded but not answered. */
  answering = true;

  constructor(
    readonly url: string,
    private readonly server: FakeServer,
  ) {}

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error("send on a socket that is not open");
    const frame = JSON.parse(data) as ClientFrame;
    this.sent.push(frame);
    if (this.answering) this.server.handle(this, frame);
  }

  close(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.server.forget(this);
    this.onclose?.({ code: 1000 });
  }

  /** The server accepts the handshake. */
  accept(): void {
    this.readyState = OPEN;
    this.onopen?.({});
  }

  /** The connection dies (network gone, or the server deleted it). */
  drop(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.server.forget(this);
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }

  deliver(frame: ServerFrame): void {
    if (this.readyState === OPEN) this.onmessage?.({ data: JSON.stringify(frame) });
  }

  actions(): string[] {
    return this.sent.map((f) => `${f.action}:${f.roomId}`);
  }
}

export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  private readonly live = new Set<FakeSocket>();
  private readonly history = new Map<string, ChatMessage[]>();
  private readonly claims = new Map<string, ChatMessage>();
  private seq = 0;
  clock = 1_700_000_000_000;

  urlsGiven = 0;

  constructor(readonly user: User) {}

  /** The socket factory to hand to ChatClient. */
  createSocket = (url: string): SocketLike => {
    const socket = new FakeSocket(url, this);
    this.sockets.push(socket);
    this.live.add(socket);
    return socket;
  };

  get last(): FakeSocket {
    return this.sockets[this.sockets.length - 1];
  }

  forget(socket: FakeSocket): void {
    this.live.delete(socket);
  }

  messages(roomId: string): ChatMessage[] {
    return this.history.get(roomId) ?? [];
  }

  /** Store a message and broadcast it to every live socket in the room. */
  post(roomId: string, text: string, author: User = OTHER, clientMessageId: string | null = null): ChatMessage {
    this.seq += 1;
    this.clock += 1000;
    const message: ChatMessage = {
      messageId: `00000000-0000-4000-8000-${String(this.seq).padStart(12, "0")}`,
      roomId,
      userId: author.userId,
      username: author.username,
      message: text,
      timestamp: this.clock,
      clientMessageId,
    };
    this.history.set(roomId, [...this.messages(roomId), message]);
    for (const socket of this.live) {
      if (socket.rooms.has(roomId)) socket.deliver({ type: "message", ...message });
    }
    return message;
  }

  handle(socket: FakeSocket, frame: ClientFrame): void {
    switch (frame.action) {
      case "joinRoom":
        socket.rooms.add(frame.roomId);
        socket.deliver({ type: "ack", action: "joinRoom", roomId: frame.roomId });
        return;
      case "leaveRoom":
        socket.rooms.delete(frame.roomId);
        socket.deliver({ type: "ack", action: "leaveRoom", roomId: frame.roomId });
        return;
      case "getMessages": {
        const all = this.messages(frame.roomId);
        const older = frame.before === undefined ? all : all.filter((m) => cursor(m) < frame.before!);
        const page = older.slice(Math.max(0, older.length - frame.limit));
        const nextBefore = older.length > frame.limit ? cursor(page[0]) : null;
        socket.deliver({ type: "messages", roomId: frame.roomId, messages: page, nextBefore });
        return;
      }
      case "sendMessage": {
        if (!socket.rooms.has(frame.roomId)) {
          socket.deliver({ type: "error", code: "NOT_IN_ROOM", message: "join first", action: "sendMessage" });
          return;
        }
        const claim = `${this.user.userId}#${frame.clientMessageId}`;
        const original = this.claims.get(claim);
        if (original !== undefined) {
          socket.deliver(ack(original, true));
          return;
        }
        // Ack first, then the broadcast — as the stream-based server does.
        this.seq += 1;
        this.clock += 1000;
        const message: ChatMessage = {
          messageId: `00000000-0000-4000-8000-${String(this.seq).padStart(12, "0")}`,
          roomId: frame.roomId,
          userId: this.user.userId,
          username: this.user.username,
          message: frame.message,
          timestamp: this.clock,
          clientMessageId: frame.clientMessageId,
          ...(frame.attachments ? { attachments: frame.attachments } : {}),
        };
        this.claims.set(claim, message);
        this.history.set(frame.roomId, [...this.messages(frame.roomId), message]);
        socket.deliver(ack(message, false));
        for (const peer of this.live) {
          if (peer.rooms.has(frame.roomId)) peer.deliver({ type: "message", ...message });
        }
        return;
      }
      case "getAttachmentUrl": {
        const posted = this.messages(frame.roomId).some((m) => m.attachments?.some((a) => a.key === frame.key));
        if (!socket.rooms.has(frame.roomId) || !posted) {
          const code = socket.rooms.has(frame.roomId) ? "ATTACHMENT_NOT_FOUND" : "NOT_IN_ROOM";
          socket.deliver({ type: "error", code, message: "no such attachment", action: "getAttachmentUrl" });
          return;
        }
        this.urlsGiven += 1;
        socket.deliver({
          type: "ack",
          action: "getAttachmentUrl",
          roomId: frame.roomId,
          key: frame.key,
          url: `https://files.test/${frame.key}?signature=${this.urlsGiven}`,
          expiresAt: Date.now() + 300_000,
        });
        return;
      }
    }
  }
}

function ack(message: ChatMessage, duplicate: boolean): ServerFrame {
  return {
    type: "ack",
    action: "sendMessage",
    roomId: message.roomId,
    clientMessageId: message.clientMessageId,
    messageId: message.messageId,
    timestamp: message.timestamp,
    duplicate,
  };
}

export function cursor(message: ChatMessage): string {
  return `${String(message.timestamp).padStart(13, "0")}#${message.messageId}`;
}

export const ME: User = { userId: "u-me", email: "me@example.test", username: "me" };
export const OTHER: User = { userId: "u-other", email: "other@example.test", username: "other" };

/** A message as the server would store it, for pure tests. */
export function msg(n: number, roomId = "general", author: User = OTHER): ChatMessage {
  return {
    messageId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    roomId,
    userId: author.userId,
    username: author.username,
    message: `message ${n}`,
    timestamp: 1_700_000_000_000 + n * 1000,
    clientMessageId: null,
  };
}

/** A direct chat's summary as ``GET /chats`` lists it, with ``change`` applied. */
export function chatSummary(chatId: string, change: Partial<ChatSummary> = {}): ChatSummary {
  return {
    chatId,
    type: "direct",
    name: null,
    peer: { userId: "u-other", username: "other" },
    createdAt: 1_700_000_000_000,
    lastActivity: 1_700_000_000_000,
    lastMessage: null,
    lastSeq: 0,
    readSeq: 0,
    unreadCount: 0,
    ...change,
  };
}
