/**
 * The chat client's state and its reducer — pure: no socket, no timer, no storage.
 *
 * ``chatReducer`` folds connection events, server frames and user intents into ``ChatState``;
 * ``drain`` then picks the frames to send now (joins, one history request, one message) and
 * marks them in flight. ``ChatClient`` (client.ts) only carries frames between these and a socket.
 */

import {
  applyPage,
  refreshRequest,
  requestFrame,
  type HistoryRequest,
  type RoomHistory,
} from "./history";
import { keyOf, maxKey, mergeMessages } from "./messages";
import {
  discard,
  dropRoom,
  enqueue,
  failInFlight,
  markSending,
  nextToSend,
  requeueInFlight,
  retry,
  settle,
  type Outbox,
  type OutgoingMessage,
} from "./outbox";
import { chatTitle } from "./conversations";
import {
  applyPresence,
  applyTyping,
  mergeMarkers,
  stopTyping,
  type MarkerBook,
  type Markers,
  type PresenceBook,
  type SignalFrame,
  type TypingBook,
} from "./receipts";
import { mergeCounts, type RoomCounts } from "./roomReceipts";
import {
  DEFAULT_ROOM,
  MAX_ROOMS,
  chatIdOf,
  chatKey,
  isChatKey,
  type ChatMessage,
  type ChatSummary,
  type ClientFrame,
  type ServerFrame,
  type User,
} from "./types";

/** "offline": the browser says it has no network; the client waits for it to come back. */
export type ConnectionStatus = "connecting" | "connected" | "disconnected" | "offline";

export interface RoomState extends RoomHistory {
  id: string;
  /** Joined on the current connection (its joinRoom was acknowledged). */
  joined: boolean;
  /** A joinRoom is in flight. */
  joining: boolean;
  loadingOlder: boolean;
  unread: number;
  historyError: string | null;
}

export interface ChatState {
  me: User;
  status: ConnectionStatus;
  /** When the next reconnect attempt is due (ms since the epoch), while disconnected. */
  retryAt: number | null;
  /** Connections opened so far. */
  connections: number;
  /** Connection attempts that failed in a row (reset once a connection works). */
  failures: number;
  /** The conversations — rooms by id, chats as ``chat:{chatId}`` — and their order of joining. */
  rooms: Record<string, RoomState>;
  roomOrder: string[];
  /** What the server said of each chat (by chatId): type, name, peer, last message, read marker. */
  chats: Record<string, ChatSummary>;
  activeRoom: string;
  /** The page is on screen (not a background tab): messages in the room shown are read. */
  visible: boolean;
  outbox: Outbox;
  history: { inFlight: HistoryRequest | null; queue: HistoryRequest[] };
  /** Something the user should know that belongs to no field (a refused join, say). */
  notice: string | null;
  /** A chat the page's address named (``?chat=``), until the user's chat list says whether
   * the user is in it: then it is shown, or the room stays with a notice. */
  addressChat: string | null;
  /** The user's whole chat list (every page of ``GET /chats``) has been read at least once. */
  chatsListed: boolean;
  /** The latest message from someone else, for the screen-reader live region. */
  announcement: { seq: number; text: string } | null;
  /** Contract v3: how far each participant of each chat got (chatId → userId → markers). */
  markers: MarkerBook;
  /** Rooms: the counts of one's newest own message (roomId → counts), as last asked for. */
  roomCounts: Readonly<Record<string, RoomCounts>>;
  /** Who is typing where, until when. */
  typing: TypingBook;
  /** Who is online, or when last seen (userId → presence). */
  presence: PresenceBook;
  /** The time of the last clock tick (ms): typing indicators expire against it. */
  now: number;
}

export type ChatAction =
  | { type: "connecting" }
  | { type: "opened" }
  | { type: "closed"; retryAt: number | null; failures?: number; offline?: boolean }
  | { type: "frame"; frame: ServerFrame }
  | { type: "roomAdded"; roomId: string }
  | { type: "roomRemoved"; roomId: string }
  | { type: "roomSelected"; roomId: string }
  | { type: "visibilityChanged"; visible: boolean }
  | { type: "olderRequested"; roomId: string }
  | { type: "keepaliveDue" }
  | { type: "messageQueued"; message: OutgoingMessage }
  | { type: "messageRetried"; clientMessageId: string }
  | { type: "messageDiscarded"; clientMessageId: string }
  | { type: "noticeDismissed" }
  /** The user's chats from ``GET /chats`` (``complete``: every page of it). */
  | { type: "chatsLoaded"; chats: ChatSummary[]; complete: boolean }
  /** ``GET /chats`` failed (or the stage has no chats): a chat the address named is not shown. */
  | { type: "chatsFailed" }
  /** The page's address names a chat (on load, or Back/Forward): shown once known to be the user's. */
  | { type: "chatAddressed"; chatId: string }
  /** A chat the user created or opened (``POST /chats``): listed and shown. */
  | { type: "chatOpened"; chat: ChatSummary }
  /** The user's rooms as the server keeps them (``GET /me/rooms``). */
  | { type: "roomsLoaded"; roomIds: string[] }
  /** A receipt, typing or presence frame (contract v3), received at ``now``. */
  | { type: "signal"; frame: SignalFrame; now: number }
  /** Every participant's markers of a chat (``GET /chats/{chatId}/receipts``). */
  | { type: "markersLoaded"; chatId: string; markers: (Markers & { userId: string })[] }
  /** How many of a room's members got and read a message (``GET /rooms/{roomId}/receipts``). */
  | { type: "roomCountsLoaded"; roomId: string; counts: RoomCounts }
  /** Time passes: typing indicators expire. */
  | { type: "clock"; now: number };

/** What survives a page reload: the conversations, the one shown and the messages not yet sent. */
export interface SavedChat {
  rooms: string[];
  activeRoom: string;
  outbox: OutgoingMessage[];
}

function emptyRoom(id: string): RoomState {
  return {
    id,
    messages: [],
    syncedKey: null,
    historyLoaded: false,
    olderCursor: null,
    joined: false,
    joining: false,
    loadingOlder: false,
    unread: 0,
    historyError: null,
  };
}

/**
 * The state a client starts in: general, the saved rooms and the unsent messages; ``openRoom``
 * (the room in the page's address) is shown, and joined first if it was not among them.
 * ``openChat`` (a chat in the page's address) is shown once the user's chat list has it —
 * at once if this browser knew it — and until then the room (``openRoom``, else the saved one).
 */
export function initialState(
  me: User,
  saved?: Partial<SavedChat> | null,
  openRoom?: string | null,
  openChat?: string | null,
): ChatState {
  const names = [DEFAULT_ROOM, ...(saved?.rooms ?? []).filter((r) => r !== DEFAULT_ROOM)];
  let roomOrder = [...new Set(names)].slice(0, MAX_ROOMS);
  if (openRoom && !roomOrder.includes(openRoom) && roomOrder.length < MAX_ROOMS) {
    roomOrder = [...roomOrder, openRoom];
  }
  const rooms = Object.fromEntries(roomOrder.map((id) => [id, emptyRoom(id)]));
  const savedRoom = openChat && saved?.activeRoom && isChatKey(saved.activeRoom) ? null : saved?.activeRoom;
  const wanted = openRoom ?? savedRoom;
  const activeRoom = wanted && roomOrder.includes(wanted) ? wanted : DEFAULT_ROOM;
  const outbox = requeueInFlight((saved?.outbox ?? []).filter((m) => roomOrder.includes(m.roomId)));
  const state: ChatState = {
    me,
    status: "connecting",
    retryAt: null,
    connections: 0,
    failures: 0,
    rooms,
    roomOrder,
    chats: {},
    activeRoom,
    visible: true,
    outbox,
    history: { inFlight: null, queue: [] },
    notice: null,
    addressChat: null,
    chatsListed: false,
    announcement: null,
    markers: {},
    roomCounts: {},
    typing: {},
    presence: {},
    now: 0,
  };
  return openChat ? chatReducer(state, { type: "chatAddressed", chatId: openChat }) : state;
}

/**
 * What to do with a chat the page's address names: ``open`` it when the user's chats include it;
 * ``wait`` while their list is not read yet; it is ``gone`` once the whole list has been read
 * without it (unknown, left, or never the user's — the server lists only one's own chats).
 */
export function addressChatDecision(
  chatId: string,
  chats: Readonly<Record<string, ChatSummary>>,
  listed: boolean,
): "open" | "wait" | "gone" {
  if (chats[chatId] !== undefined) return "open";
  return listed ? "gone" : "wait";
}

/** The notice when the chat an address named cannot be shown: where the reader is instead. */
export function chatUnavailableNotice(state: ChatState): string {
  return `That chat isn't available to you — showing ${conversationName(state, state.activeRoom)}.`;
}

/** Settle the chat the address named, if the user's chat list can tell by now. */
function settleAddressChat(state: ChatState): ChatState {
  if (state.addressChat === null) return state;
  switch (addressChatDecision(state.addressChat, state.chats, state.chatsListed)) {
    case "wait":
      return state;
    case "open":
      return chatReducer(state, { type: "roomSelected", roomId: chatKey(state.addressChat) });
    case "gone": {
      const next = { ...state, addressChat: null };
      return { ...next, notice: chatUnavailableNotice(next) };
    }
  }
}

/** The address names a chat: shown now if this browser has it (confirmed by the chat list). */
function chatAddressed(state: ChatState, chatId: string): ChatState {
  const key = chatKey(chatId);
  const shown = state.rooms[key] === undefined ? state : { ...withRoom(state, key, { unread: 0 }), activeRoom: key };
  return settleAddressChat({ ...shown, addressChat: chatId });
}

export function toSaved(state: ChatState): SavedChat {
  return {
    rooms: state.roomOrder,
    activeRoom: state.activeRoom,
    outbox: [...requeueInFlight(state.outbox)],
  };
}

function mapRooms(state: ChatState, f: (room: RoomState) => RoomState): Record<string, RoomState> {
  return Object.fromEntries(state.roomOrder.map((id) => [id, f(state.rooms[id])]));
}

function withRoom(state: ChatState, roomId: string, change: Partial<RoomState>): ChatState {
  const room = state.rooms[roomId];
  if (room === undefined) return state;
  return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, ...change } } };
}

function removeRoom(state: ChatState, roomId: string): ChatState {
  if (roomId === DEFAULT_ROOM || state.rooms[roomId] === undefined) return state;
  const rooms = { ...state.rooms };
  delete rooms[roomId];
  let chats = state.chats;
  if (isChatKey(roomId)) {
    chats = { ...chats };
    delete chats[chatIdOf(roomId)];
  }
  const roomCounts = { ...state.roomCounts };
  delete roomCounts[roomId];
  return {
    ...state,
    rooms,
    chats,
    roomCounts,
    roomOrder: state.roomOrder.filter((id) => id !== roomId),
    activeRoom: state.activeRoom === roomId ? DEFAULT_ROOM : state.activeRoom,
    outbox: dropRoom(state.outbox, roomId),
    history: { ...state.history, queue: state.history.queue.filter((r) => r.roomId !== roomId) },
  };
}

/** Every room brought up to date on a new connection: the room on screen first. */
function refreshQueue(state: ChatState): HistoryRequest[] {
  const order = [state.activeRoom, ...state.roomOrder.filter((id) => id !== state.activeRoom)];
  return order.map((id) => refreshRequest(id, state.rooms[id]));
}

function excerpt(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Rooms only: chats do not count against the user's limit of rooms. */
function roomCount(state: ChatState): number {
  return state.roomOrder.filter((id) => !isChatKey(id)).length;
}

/** How a conversation is named in a sentence: ``#room``, a group's name, the other person. */
export function conversationName(state: ChatState, key: string): string {
  return isChatKey(key) ? chatTitle(state.chats[chatIdOf(key)]) : `#${key}`;
}

/**
 * A chat the user is in: its summary kept, and — new — a conversation of its own, which needs
 * no join (every connection of a participant receives a chat's messages), its history read
 * at once when connected. ``select``: shown now.
 */
function addChat(state: ChatState, chat: ChatSummary, select: boolean): ChatState {
  const key = chatKey(chat.chatId);
  let next: ChatState = { ...state, chats: { ...state.chats, [chat.chatId]: chat } };
  if (chat.peer !== null && chat.presence) {
    next = { ...next, presence: applyPresence(next.presence, chat.peer.userId, chat.presence) };
  }
  if (next.rooms[key] === undefined) {
    const connected = next.status === "connected";
    const room: RoomState = {
      ...emptyRoom(key),
      joined: connected,
      unread: select ? 0 : chat.unreadCount,
    };
    next = {
      ...next,
      rooms: { ...next.rooms, [key]: room },
      roomOrder: [...next.roomOrder, key],
      history: connected
        ? { ...next.history, queue: [...next.history.queue, { kind: "initial" as const, roomId: key }] }
        : next.history,
    };
  }
  return select ? chatReducer(next, { type: "roomSelected", roomId: key }) : next;
}

/** A room the server says the user is in (another device joined it, or the server's list). */
function addRoom(state: ChatState, roomId: string, joined: boolean): ChatState {
  if (state.rooms[roomId] !== undefined || roomCount(state) >= MAX_ROOMS) return state;
  const queue =
    state.status === "connected" && joined
      ? [...state.history.queue, { kind: "initial" as const, roomId }]
      : state.history.queue;
  return {
    ...state,
    rooms: { ...state.rooms, [roomId]: { ...emptyRoom(roomId), joined: joined && state.status === "connected" } },
    roomOrder: [...state.roomOrder, roomId],
    history: { ...state.history, queue },
  };
}

/** A chat's summary moved on by one of its messages (the list is ordered by activity). */
function chatTouched(state: ChatState, message: ChatMessage): Record<string, ChatSummary> {
  if (!isChatKey(message.roomId)) return state.chats;
  const chatId = chatIdOf(message.roomId);
  const chat = state.chats[chatId];
  if (chat === undefined || message.timestamp < chat.lastActivity) return state.chats;
  const seq = message.seq ?? chat.lastSeq;
  const lastMessage = {
    messageId: message.messageId,
    userId: message.userId,
    username: message.username,
    preview: message.message.slice(0, 200),
    timestamp: message.timestamp,
    seq,
  };
  return {
    ...state.chats,
    [chatId]: { ...chat, lastActivity: message.timestamp, lastMessage, lastSeq: Math.max(chat.lastSeq, seq) },
  };
}

function filesSent(message: ChatMessage): string {
  const count = message.attachments?.length ?? 0;
  return count === 1 ? "sent a file" : `sent ${count} files`;
}

function onMessage(state: ChatState, message: ChatMessage): ChatState {
  const room = state.rooms[message.roomId];
  const own = message.userId === state.me.userId;
  const outbox =
    own && message.clientMessageId !== null
      ? settle(state.outbox, message.clientMessageId)[0]
      : state.outbox;
  if (room === undefined) return outbox === state.outbox ? state : { ...state, outbox };
  const messages = mergeMessages(room.messages, [message]);
  const isNew = messages !== room.messages;
  const next: RoomState = {
    ...room,
    messages,
    syncedKey: maxKey(room.syncedKey, keyOf(message)),
    unread: room.unread + (isNew && !own && (message.roomId !== state.activeRoom || !state.visible) ? 1 : 0),
  };
  let announcement = state.announcement;
  if (isNew && !own) {
    const where = message.roomId === state.activeRoom ? "" : ` in ${conversationName(state, message.roomId)}`;
    announcement = {
      seq: (announcement?.seq ?? 0) + 1,
      text: `${message.username}${where}: ${excerpt(message.message) || filesSent(message)}`,
    };
  }
  const chats = isNew ? chatTouched(state, message) : state.chats;
  const typing = isChatKey(message.roomId)
    ? stopTyping(state.typing, chatIdOf(message.roomId), message.userId)
    : state.typing;
  return { ...state, outbox, announcement, chats, typing, rooms: { ...state.rooms, [room.id]: next } };
}

function onFrame(state: ChatState, frame: ServerFrame): ChatState {
  switch (frame.type) {
    case "message": {
      const { type: _type, ...message } = frame;
      return onMessage(state, message);
    }
    case "ack": {
      if (frame.action === "joinRoom") return withRoom(state, frame.roomId, { joined: true, joining: false });
      if (frame.action === "getAttachmentUrl") return state; // the client answers these itself
      if (frame.action !== "sendMessage" || frame.clientMessageId === null) return state;
      const [outbox, sent] = settle(state.outbox, frame.clientMessageId);
      if (sent === undefined) return state;
      const settled = { ...state, outbox };
      const room = state.rooms[sent.roomId];
      if (room === undefined) return settled;
      // The ack names the stored message; show it now — its broadcast will be a duplicate.
      const message: ChatMessage = {
        messageId: frame.messageId,
        roomId: sent.roomId,
        userId: state.me.userId,
        username: state.me.username,
        message: sent.text,
        timestamp: frame.timestamp,
        clientMessageId: sent.clientMessageId,
        ...(frame.seq !== undefined ? { seq: frame.seq } : {}),
        ...(sent.attachments?.length ? { attachments: sent.attachments } : {}),
      };
      const shown = withRoom(settled, room.id, { messages: mergeMessages(room.messages, [message]) });
      return { ...shown, chats: chatTouched(shown, message) };
    }
    case "messages": {
      const request = state.history.inFlight;
      if (request === null || request.roomId !== frame.roomId) return state;
      const history = { ...state.history, inFlight: null };
      const room = state.rooms[frame.roomId];
      if (room === undefined) return { ...state, history };
      const outcome = applyPage(room, request, frame);
      if (outcome.next !== null) history.queue = [outcome.next, ...history.queue];
      // What a catch-up brings (sent while this connection was away) is unread as a broadcast
      // would have been: others' messages, in a room not on screen.
      let unread = room.unread;
      if (request.kind === "catchup" && (room.id !== state.activeRoom || !state.visible)) {
        const known = new Set(room.messages.map((m) => m.messageId));
        unread += outcome.history.messages.filter(
          (m) => !known.has(m.messageId) && m.userId !== state.me.userId,
        ).length;
      }
      return {
        ...withRoom(state, room.id, {
          ...outcome.history,
          unread,
          loadingOlder: request.kind === "older" ? false : room.loadingOlder,
          historyError: null,
        }),
        history,
      };
    }
    case "error":
      return onError(state, frame.action, frame.message);
    case "roomJoined":
      return addRoom(state, frame.roomId, true);
    case "roomLeft":
      return removeRoom(state, frame.roomId);
    case "chatAdded":
      return addChat(state, frame.chat, false);
    case "chatRemoved":
      return removeRoom(state, chatKey(frame.chatId));
  }
}

function onError(state: ChatState, action: string | undefined, message: string): ChatState {
  switch (action) {
    case "typing":
    case "receipt":
      // Signals are fire-and-forget: a rate-limited one is simply not shown to the others.
      return state;
    case "sendMessage":
      return { ...state, outbox: failInFlight(state.outbox, message) };
    case "getMessages": {
      const request = state.history.inFlight;
      const history = { ...state.history, inFlight: null };
      if (request === null) return { ...state, history };
      if (request.kind === "older") {
        return { ...withRoom(state, request.roomId, { loadingOlder: false }), history, notice: message };
      }
      if (request.kind === "keepalive") return { ...state, history };
      return { ...withRoom(state, request.roomId, { historyError: message }), history };
    }
    case "joinRoom": {
      const room = state.roomOrder.map((id) => state.rooms[id]).find((r) => r.joining);
      if (room === undefined) return { ...state, notice: message };
      return { ...removeRoom(state, room.id), notice: `Could not join #${room.id}: ${message}` };
    }
    default:
      return { ...state, notice: message };
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "connecting":
      return { ...state, status: "connecting", retryAt: null };
    case "opened":
      return {
        ...state,
        status: "connected",
        retryAt: null,
        failures: 0,
        connections: state.connections + 1,
        rooms: mapRooms(state, (room) => ({
          ...room,
          // A new connection is sure to be in general and in its chats (which need no join);
          // every other room is joined again (a v1 stage starts a connection in general only).
          joined: room.id === DEFAULT_ROOM || isChatKey(room.id),
          joining: false,
          loadingOlder: false,
          historyError: null,
        })),
        history: { inFlight: null, queue: refreshQueue(state) },
        outbox: requeueInFlight(state.outbox),
      };
    case "closed":
      return {
        ...state,
        status: action.offline ? "offline" : "disconnected",
        retryAt: action.retryAt,
        failures: action.failures ?? state.failures,
        rooms: mapRooms(state, (room) => ({ ...room, joined: false, joining: false, loadingOlder: false })),
        history: { inFlight: null, queue: [] },
        outbox: requeueInFlight(state.outbox),
      };
    case "frame":
      return onFrame(state, action.frame);
    case "roomAdded": {
      if (state.rooms[action.roomId] !== undefined) {
        return chatReducer(state, { type: "roomSelected", roomId: action.roomId });
      }
      if (roomCount(state) >= MAX_ROOMS) {
        return { ...state, addressChat: null, notice: `You can be in at most ${MAX_ROOMS} rooms at once.` };
      }
      const queue =
        state.status === "connected"
          ? [...state.history.queue, { kind: "initial" as const, roomId: action.roomId }]
          : state.history.queue;
      return {
        ...state,
        rooms: { ...state.rooms, [action.roomId]: emptyRoom(action.roomId) },
        roomOrder: [...state.roomOrder, action.roomId],
        activeRoom: action.roomId,
        addressChat: null,
        history: { ...state.history, queue },
      };
    }
    case "roomRemoved":
      return removeRoom(state, action.roomId);
    case "roomSelected":
      // The reader chose (a chat the address named, waiting for the chat list, is forgotten).
      if (state.rooms[action.roomId] === undefined) return state;
      return { ...withRoom(state, action.roomId, { unread: 0 }), activeRoom: action.roomId, addressChat: null };
    case "visibilityChanged": {
      const next = { ...state, visible: action.visible };
      return action.visible ? withRoom(next, state.activeRoom, { unread: 0 }) : next;
    }
    case "olderRequested": {
      const room = state.rooms[action.roomId];
      if (
        state.status !== "connected" ||
        room === undefined ||
        !room.historyLoaded ||
        room.olderCursor === null ||
        room.loadingOlder
      ) {
        return state;
      }
      const request: HistoryRequest = { kind: "older", roomId: room.id, before: room.olderCursor };
      return {
        ...withRoom(state, room.id, { loadingOlder: true }),
        history: { ...state.history, queue: [...state.history.queue, request] },
      };
    }
    case "keepaliveDue":
      if (state.status !== "connected" || state.history.inFlight !== null || state.history.queue.length > 0) {
        return state;
      }
      return {
        ...state,
        history: { inFlight: null, queue: [{ kind: "keepalive", roomId: DEFAULT_ROOM }] },
      };
    case "messageQueued":
      if (state.rooms[action.message.roomId] === undefined) return state;
      return { ...state, outbox: enqueue(state.outbox, action.message) };
    case "messageRetried":
      return { ...state, outbox: retry(state.outbox, action.clientMessageId) };
    case "messageDiscarded":
      return { ...state, outbox: discard(state.outbox, action.clientMessageId) };
    case "noticeDismissed":
      return { ...state, notice: null };
    case "chatsLoaded": {
      let next = state;
      for (const chat of action.chats) next = addChat(next, chat, false);
      if (!action.complete) return next;
      // Chats remembered by this browser that the server no longer lists (left elsewhere).
      const listed = new Set(action.chats.map((c) => chatKey(c.chatId)));
      for (const key of next.roomOrder) {
        if (isChatKey(key) && !listed.has(key) && next.chats[chatIdOf(key)] === undefined) {
          next = removeRoom(next, key);
        }
      }
      return settleAddressChat({ ...next, chatsListed: true });
    }
    case "chatsFailed": {
      if (state.addressChat === null) return state;
      const key = chatKey(state.addressChat);
      const next = { ...state, addressChat: null };
      // A chat this browser already shows stays; one it never had cannot be opened.
      return next.rooms[key] !== undefined ? next : { ...next, notice: chatUnavailableNotice(next) };
    }
    case "chatAddressed":
      return chatAddressed(state, action.chatId);
    case "chatOpened":
      return addChat(state, action.chat, true);
    case "roomsLoaded":
      return action.roomIds.reduce((next, roomId) => addRoom(next, roomId, false), state);
    case "signal":
      return onSignal({ ...state, now: action.now }, action.frame);
    case "markersLoaded":
      return {
        ...state,
        markers: action.markers.reduce(
          (book, m) => mergeMarkers(book, action.chatId, m.userId, m),
          state.markers,
        ),
      };
    case "roomCountsLoaded": {
      if (state.rooms[action.roomId] === undefined || isChatKey(action.roomId)) return state;
      const known = state.roomCounts[action.roomId];
      const counts = mergeCounts(known, action.counts);
      return counts === known ? state : { ...state, roomCounts: { ...state.roomCounts, [action.roomId]: counts } };
    }
    case "clock":
      return { ...state, now: action.now };
  }
}

function onSignal(state: ChatState, frame: SignalFrame): ChatState {
  switch (frame.type) {
    case "receipt":
      return { ...state, markers: mergeMarkers(state.markers, frame.chatId, frame.userId, frame) };
    case "typing":
      if (frame.userId === state.me.userId) return state;
      return { ...state, typing: applyTyping(state.typing, frame, state.now) };
    case "presence":
      return {
        ...state,
        presence: applyPresence(state.presence, frame.userId, {
          online: frame.online,
          lastSeen: frame.lastSeen,
        }),
      };
  }
}

/**
 * The frames to send now, with the state that marks them in flight: the next join (one at a
 * time), the next history request of a joined room (one at a time — a history answer names no
 * request, and fetching before the join is acknowledged could miss a message), and the next
 * message of a joined room (one at a time, so they arrive in order).
 */
export function drain(state: ChatState): { state: ChatState; frames: ClientFrame[] } {
  if (state.status !== "connected") return { state, frames: [] };
  const frames: ClientFrame[] = [];
  let next = state;

  const rooms = next.roomOrder.map((id) => next.rooms[id]);
  if (!rooms.some((r) => r.joining)) {
    const toJoin = rooms.find((r) => !r.joined && !isChatKey(r.id));
    if (toJoin !== undefined) {
      next = withRoom(next, toJoin.id, { joining: true });
      frames.push({ action: "joinRoom", roomId: toJoin.id });
    }
  }

  const ready = (roomId: string) => next.rooms[roomId]?.joined === true;
  if (next.history.inFlight === null) {
    const index = next.history.queue.findIndex((r) => r.kind === "keepalive" || ready(r.roomId));
    if (index >= 0) {
      const request = next.history.queue[index];
      const queue = next.history.queue.filter((_, i) => i !== index);
      next = { ...next, history: { inFlight: request, queue } };
      frames.push(requestFrame(request));
    }
  }

  const message = nextToSend(next.outbox, ready);
  if (message !== undefined) {
    next = { ...next, outbox: markSending(next.outbox, message.clientMessageId) };
    frames.push({
      action: "sendMessage",
      roomId: message.roomId,
      message: message.text,
      clientMessageId: message.clientMessageId,
      ...(message.attachments?.length ? { attachments: message.attachments } : {}),
    });
  }
  return { state: next, frames };
}

/** Messages from others not seen yet, in every room: the tab's title shows the count. */
export function totalUnread(state: ChatState): number {
  return state.roomOrder.reduce((sum, id) => sum + state.rooms[id].unread, 0);
}
