/**
 * ChatClient: one WebSocket at a time, reconnected with backoff, driving the pure reducer.
 *
 * Everything with a side effect is injected (socket factory, timers, clock, randomness,
 * storage), so the reconnect behaviour is unit-tested with a fake socket and fake timers.
 */

import { DEFAULT_BACKOFF, reconnectDelay, type BackoffPolicy } from "./backoff";
import { newClientMessageId } from "./outbox";
import {
  chatReducer,
  drain,
  initialState,
  toSaved,
  type ChatAction,
  type ChatState,
  type SavedChat,
} from "./state";
import {
  NOT_TYPING,
  keystroke,
  parseSignal,
  typingStopped,
  type Markers,
  type SignalFrame,
  type TypingOut,
  type TypingRequest,
} from "./receipts";
import {
  dueReports,
  keepRooms,
  newestFromOthers,
  nextDueAt,
  observe,
  type ReportBook,
  type RoomCounts,
  type RoomReceiptRequest,
} from "./roomReceipts";
import {
  DEFAULT_ROOM,
  chatIdOf,
  chatKey,
  isChatKey,
  parseFrame,
  toWire,
  type ChatSummary,
  type Attachment,
  type ClientFrame,
  type ServerFrame,
  type User,
} from "./types";

function parseSignalText(data: unknown): SignalFrame | null {
  if (typeof data !== "string") return null;
  try {
    return parseSignal(JSON.parse(data));
  } catch {
    return null;
  }
}

/** The part of the browser's WebSocket this client uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ChatClientOptions {
  wsUrl: string;
  token: string;
  me: User;
  createSocket?: (url: string) => SocketLike;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  now?: () => number;
  random?: () => number;
  storage?: KeyValueStore | null;
  backoff?: BackoffPolicy;
  /** How often to send a keepalive frame (the gateway closes connections idle for 10 min). */
  keepaliveMs?: number;
  /** Give up on a handshake that has not completed after this long. */
  connectTimeoutMs?: number;
  /** True once the token can no longer open a connection. */
  tokenExpired?: () => boolean;
  /** Called instead of reconnecting when the token has expired. */
  onSessionExpired?: () => void;
  /** The room to show first (the one in the page's address), joined if it is not saved. */
  openRoom?: string | null;
  /** The chat in the page's address: shown once the user's chat list has it. */
  openChat?: string | null;
  /** Whether the browser has a network at start (``navigator.onLine``). */
  online?: () => boolean;
}

const OPEN = 1;
/** A download URL is used again until this long before it expires. */
const URL_MARGIN_MS = 30_000;

interface UrlRequest {
  roomId: string;
  key: string;
  resolve: (url: string) => void;
  reject: (error: Error) => void;
}
export const KEEPALIVE_MS = 4 * 60 * 1000;
export const CONNECT_TIMEOUT_MS = 10_000;

export function savedChatKey(userId: string): string {
  return `chatstack.chat.${userId}`;
}

function loadSaved(storage: KeyValueStore | null, userId: string): SavedChat | null {
  if (storage === null) return null;
  try {
    const raw = storage.getItem(savedChatKey(userId));
    return raw === null ? null : (JSON.parse(raw) as SavedChat);
  } catch {
    return null;
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class ChatClient {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private socket: SocketLike | null = null;
  private attempt = 0;
  private stopped = true;
  private retryTimer: unknown = null;
  private connectTimer: unknown = null;
  private keepaliveTimer: unknown = null;
  private typingOut: TypingOut = NOT_TYPING;
  /** Room receipts: how far this app got in each room and what it told the server. */
  private reports: ReportBook = {};
  private reportTimer: unknown = null;
  private reportDueAt: number | null = null;
  private reportsSeen: { rooms: ChatState["rooms"]; activeRoom: string; visible: boolean } | null = null;
  /** The browser reported no network: no reconnect attempts until it reports one again. */
  private offline = false;
  /** Download URLs by attachment key, and the getAttachmentUrl requests waiting for theirs. */
  private readonly urls = new Map<string, { url: string; expiresAt: number }>();
  private urlRequests: UrlRequest[] = [];
  private readonly o: Required<Omit<ChatClientOptions, "storage" | "onSessionExpired" | "openRoom" | "openChat">> & {
    storage: KeyValueStore | null;
    onSessionExpired: () => void;
  };

  constructor(options: ChatClientOptions) {
    this.o = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as number),
      now: () => Date.now(),
      random: Math.random,
      storage: null,
      backoff: DEFAULT_BACKOFF,
      keepaliveMs: KEEPALIVE_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      tokenExpired: () => false,
      onSessionExpired: () => {},
      online: () => globalThis.navigator?.onLine ?? true,
      ...definedOnly(options),
    } as ChatClient["o"];
    const saved = loadSaved(this.o.storage, options.me.userId);
    this.state = initialState(options.me, saved, options.openRoom, options.openChat);
  }

  // --- for React (useSyncExternalStore) ---

  getState = (): ChatState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  // --- lifecycle ---

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.o.online()) this.connect();
    else this.goOffline();
  }

  /** Close for good (logout, or the view going away): no reconnect. */
  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      socket.close(1000, "bye");
    }
  }

  /** Reconnect now instead of waiting for the backoff (a "Retry now" button). */
  retryNow(): void {
    if (this.stopped || (this.state.status !== "disconnected" && this.state.status !== "offline")) return;
    this.connect();
  }

  /**
   * The browser's ``offline`` and ``online`` events. Offline, the connection is closed at once
   * (it cannot work, and the page must not go on saying "Connected") and nothing is retried;
   * online again, the client reconnects at once.
   */
  setOnline(online: boolean): void {
    if (this.stopped) return;
    if (!online) {
      if (!this.offline) this.goOffline();
      return;
    }
    this.offline = false;
    this.retryNow();
  }

  /** The page went to the background or came back (``visibilitychange``). */
  setVisible(visible: boolean): void {
    if (visible !== this.state.visible) this.dispatch({ type: "visibilityChanged", visible });
  }

  // --- user intents ---

  send(text: string, roomId: string = this.state.activeRoom, attachments: Attachment[] = []): void {
    this.dispatch({
      type: "messageQueued",
      message: {
        clientMessageId: newClientMessageId(),
        roomId,
        text,
        ...(attachments.length > 0 ? { attachments } : {}),
        createdAt: this.o.now(),
        state: "queued",
      },
    });
  }

  /**
   * A short-lived URL of a file posted in ``roomId`` (``getAttachmentUrl``), reused until shortly
   * before it expires. Rejects when the server refuses, or when there is no connection.
   */
  attachmentUrl(roomId: string, key: string): Promise<string> {
    const known = this.urls.get(key);
    if (known !== undefined && known.expiresAt - URL_MARGIN_MS > this.o.now()) {
      return Promise.resolve(known.url);
    }
    if (this.socket === null || this.socket.readyState !== OPEN) {
      return Promise.reject(new Error("Not connected: the file can be shown once the connection is back."));
    }
    return new Promise((resolve, reject) => {
      this.urlRequests.push({ roomId, key, resolve, reject });
      this.sendFrame({ action: "getAttachmentUrl", roomId, key });
    });
  }

  joinRoom(roomId: string): void {
    this.dispatch({ type: "roomAdded", roomId });
  }

  leaveRoom(roomId: string): void {
    if (roomId === DEFAULT_ROOM || this.state.rooms[roomId] === undefined) return;
    const wasJoined = this.state.rooms[roomId].joined || this.state.rooms[roomId].joining;
    this.dispatch({ type: "roomRemoved", roomId });
    if (wasJoined) this.sendFrame({ action: "leaveRoom", roomId });
  }

  selectRoom(roomId: string): void {
    this.dispatch({ type: "roomSelected", roomId });
  }

  loadOlder(roomId: string = this.state.activeRoom): void {
    this.dispatch({ type: "olderRequested", roomId });
  }

  /** The user's chats as ``GET /chats`` listed them (``complete``: all of its pages). */
  chatsLoaded(chats: ChatSummary[], complete: boolean): void {
    this.dispatch({ type: "chatsLoaded", chats, complete });
  }

  /** ``GET /chats`` failed: a chat the address named, not yet known here, is not shown. */
  chatsFailed(): void {
    this.dispatch({ type: "chatsFailed" });
  }

  /** The page's address names a chat (Back, Forward): shown if it is the user's. */
  showChat(chatId: string): void {
    this.dispatch({ type: "chatAddressed", chatId });
  }

  /** A chat the user just created or opened: listed and shown. */
  openChat(chat: ChatSummary): void {
    this.dispatch({ type: "chatOpened", chat });
  }

  /** The user left a chat (its ``chatRemoved`` frame may follow): it goes from the list. */
  forgetChat(chatId: string): void {
    this.dispatch({ type: "roomRemoved", roomId: chatKey(chatId) });
  }

  /** The user's rooms as the server keeps them (``GET /me/rooms``). */
  roomsLoaded(roomIds: string[]): void {
    this.dispatch({ type: "roomsLoaded", roomIds });
  }

  retryMessage(clientMessageId: string): void {
    this.dispatch({ type: "messageRetried", clientMessageId });
  }

  discardMessage(clientMessageId: string): void {
    this.dispatch({ type: "messageDiscarded", clientMessageId });
  }

  dismissNotice(): void {
    this.dispatch({ type: "noticeDismissed" });
  }

  // --- receipts, typing, presence (contract v3) ---

  /** Every participant's markers of a chat, as ``GET /chats/{chatId}/receipts`` gave them. */
  markersLoaded(chatId: string, markers: (Markers & { userId: string })[]): void {
    this.dispatch({ type: "markersLoaded", chatId, markers });
  }

  /** A keystroke in the message box of conversation ``key``: the others of a chat are told
   * that the user is typing (renewed every few seconds while typing). */
  typed(key: string): void {
    if (!isChatKey(key)) return this.typingDone(true);
    const [frames, next] = keystroke(this.typingOut, chatIdOf(key), this.o.now());
    this.typingOut = next;
    for (const frame of frames) this.sendSignal(frame);
  }

  /** The user sent or cleared the message (``force``), or may have paused: a stop if due. */
  typingDone(force: boolean): void {
    const [frame, next] = typingStopped(this.typingOut, this.o.now(), force);
    this.typingOut = next;
    if (frame !== null) this.sendSignal(frame);
  }

  /** How many of a room's members got and read one's newest message there, as asked for. */
  roomCountsLoaded(roomId: string, counts: RoomCounts): void {
    this.dispatch({ type: "roomCountsLoaded", roomId, counts });
  }

  /** Time passes: typing indicators expire, and a typist who paused is said to have stopped. */
  tick(): void {
    this.typingDone(false);
    this.dispatch({ type: "clock", now: this.o.now() });
  }

  private sendSignal(frame: TypingRequest | RoomReceiptRequest): void {
    if (this.socket !== null && this.socket.readyState === OPEN && this.state.status === "connected") {
      this.socket.send(JSON.stringify(frame));
    }
  }

  // --- internals ---

  private dispatch(action: ChatAction): void {
    const before = this.state;
    const { state, frames } = drain(chatReducer(this.state, action));
    this.state = state;
    for (const frame of frames) this.sendFrame(frame);
    // Sending may have dispatched again (a socket that answers at once): publish the latest.
    const after = this.state;
    if (after !== before) {
      this.save(before, after);
      for (const listener of this.listeners) listener();
    }
    this.reportReceipts();
  }

  /**
   * Room receipts (rooms have no receipt frames): the newest message of others in each room is
   * reported delivered once it arrived, read once shown (its room on screen, the page visible);
   * at most one report per room every couple of seconds, sent when connected (see roomReceipts).
   */
  private reportReceipts(): void {
    const state = this.state;
    const seen = this.reportsSeen;
    if (
      seen === null ||
      seen.rooms !== state.rooms ||
      seen.activeRoom !== state.activeRoom ||
      seen.visible !== state.visible
    ) {
      this.reportsSeen = { rooms: state.rooms, activeRoom: state.activeRoom, visible: state.visible };
      let book = this.reports;
      for (const roomId of state.roomOrder) {
        if (isChatKey(roomId)) continue;
        const newest = newestFromOthers(state.rooms[roomId].messages, state.me.userId);
        if (newest === null) continue;
        const shown = roomId === state.activeRoom && state.visible;
        book = observe(book, roomId, shown ? "read" : "delivered", newest);
      }
      this.reports = keepRooms(book, new Set(state.roomOrder));
    }
    if (this.socket === null || this.socket.readyState !== OPEN || state.status !== "connected") return;
    const now = this.o.now();
    const [reports, book] = dueReports(this.reports, now);
    this.reports = book;
    for (const report of reports) this.sendSignal(report);
    const due = nextDueAt(book);
    if (due === this.reportDueAt) return;
    this.clearReportTimer();
    if (due === null) return;
    this.reportDueAt = due;
    this.reportTimer = this.o.setTimeout(() => {
      this.reportTimer = null;
      this.reportDueAt = null;
      if (!this.stopped) this.reportReceipts();
    }, Math.max(0, due - now));
  }

  private clearReportTimer(): void {
    if (this.reportTimer !== null) this.o.clearTimeout(this.reportTimer);
    this.reportTimer = null;
    this.reportDueAt = null;
  }

  private save(before: ChatState, after: ChatState): void {
    if (this.o.storage === null) return;
    if (
      before.roomOrder === after.roomOrder &&
      before.activeRoom === after.activeRoom &&
      before.outbox === after.outbox
    ) {
      return;
    }
    try {
      this.o.storage.setItem(savedChatKey(after.me.userId), JSON.stringify(toSaved(after)));
    } catch {
      // Storage full or disabled: the chat still works, it just forgets on reload.
    }
  }

  private sendFrame(frame: ClientFrame): void {
    if (this.socket !== null && this.socket.readyState === OPEN) {
      this.socket.send(JSON.stringify(toWire(frame)));
    }
  }

  private clearTimers(): void {
    for (const timer of [this.retryTimer, this.connectTimer, this.keepaliveTimer]) {
      if (timer !== null) this.o.clearTimeout(timer);
    }
    this.retryTimer = this.connectTimer = this.keepaliveTimer = null;
    this.clearReportTimer();
  }

  private goOffline(): void {
    this.offline = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      socket.close(1000, "offline");
    }
    this.dispatch({ type: "closed", retryAt: null, offline: true });
  }

  private connect(): void {
    this.clearTimers();
    this.dispatch({ type: "connecting" });
    const url = `${this.o.wsUrl}${this.o.wsUrl.includes("?") ? "&" : "?"}token=${encodeURIComponent(this.o.token)}`;
    let socket: SocketLike;
    try {
      socket = this.o.createSocket(url);
    } catch {
      this.onClosed();
      return;
    }
    this.socket = socket;
    let receivedAny = false;
    this.connectTimer = this.o.setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === socket && socket.readyState !== OPEN) socket.close();
    }, this.o.connectTimeoutMs);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      if (this.connectTimer !== null) this.o.clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.offline = false;
      this.scheduleKeepalive();
      this.dispatch({ type: "opened" });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      const frame = parseFrame(event.data);
      if (frame === null) {
        const signal = parseSignalText(event.data);
        if (signal !== null) this.dispatch({ type: "signal", frame: signal, now: this.o.now() });
        return;
      }
      if (!receivedAny) {
        // The server answered on this connection: it works, so the backoff starts over.
        receivedAny = true;
        this.attempt = 0;
      }
      if (this.answerUrlRequest(frame)) return;
      this.dispatch({ type: "frame", frame });
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.onClosed();
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is handled there.
    };
  }

  /** Settle the getAttachmentUrl request ``frame`` answers (in order: one answer each). */
  private answerUrlRequest(frame: ServerFrame): boolean {
    if (frame.type === "ack" && frame.action === "getAttachmentUrl") {
      this.urls.set(frame.key, { url: frame.url, expiresAt: frame.expiresAt });
      const waiting = this.urlRequests.filter((r) => r.key === frame.key);
      this.urlRequests = this.urlRequests.filter((r) => r.key !== frame.key);
      for (const request of waiting) request.resolve(frame.url);
      return true;
    }
    if (frame.type === "error" && frame.action === "getAttachmentUrl") {
      const [first, ...rest] = this.urlRequests;
      this.urlRequests = rest;
      first?.reject(new Error(frame.message));
      return true;
    }
    return false;
  }

  private onClosed(): void {
    for (const request of this.urlRequests) request.reject(new Error("The connection dropped."));
    this.urlRequests = [];
    this.socket = null;
    this.clearTimers();
    if (this.stopped) return;
    if (this.o.tokenExpired()) {
      this.dispatch({ type: "closed", retryAt: null });
      this.stop();
      this.o.onSessionExpired();
      return;
    }
    if (this.offline) {
      this.dispatch({ type: "closed", retryAt: null, offline: true });
      return;
    }
    const delay = reconnectDelay(this.attempt, this.o.backoff, this.o.random);
    this.attempt += 1;
    this.dispatch({ type: "closed", retryAt: this.o.now() + delay, failures: this.attempt });
    this.retryTimer = this.o.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private scheduleKeepalive(): void {
    this.keepaliveTimer = this.o.setTimeout(() => {
      this.keepaliveTimer = null;
      if (this.stopped || this.socket === null) return;
      this.dispatch({ type: "keepaliveDue" });
      this.scheduleKeepalive();
    }, this.o.keepaliveMs);
  }
}
