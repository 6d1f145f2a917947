/** The wire contract (conformance/CONTRACT.md) as TypeScript types, and a tolerant frame parser. */

export interface User {
  userId: string;
  email: string;
  username: string;
}

/** A file a message carries (profile media, conformance/MEDIA.md): an upload of its sender. */
export interface Attachment {
  key: string;
  contentType: string;
  size: number;
  name: string;
}

/**
 * A stored chat message, as broadcast and as returned by getMessages. ``roomId`` is the
 * conversation's key: a room's id, or ``chat:{chatId}`` for a chat (contract v2), so rooms and
 * chats share one history, outbox and unread logic; ``seq`` is a chat message's number.
 */
export interface ChatMessage {
  messageId: string;
  roomId: string;
  userId: string;
  username: string;
  message: string;
  timestamp: number;
  clientMessageId: string | null;
  seq?: number;
  attachments?: Attachment[];
}

/** Someone as the people search and a chat's participants show them (never an e-mail). */
export interface Person {
  userId: string;
  username: string;
}

/** A chat as one participant sees it (contract v2, §8). */
export interface ChatSummary {
  chatId: string;
  type: "direct" | "group";
  name: string | null;
  peer: Person | null;
  createdAt: number;
  lastActivity: number;
  lastMessage: { messageId: string; userId: string; username: string; preview: string; timestamp: number; seq: number } | null;
  lastSeq: number;
  readSeq: number;
  unreadCount: number;
  /** A direct chat's peer: online, or when last seen (contract v3, ``GET /chats``). */
  presence?: { online: boolean; lastSeen: number | null } | null;
}

/** A chat with its participants (``GET /chats/{chatId}``, ``POST /chats``). */
export interface ChatDetail extends ChatSummary {
  participants: Person[];
}

export interface MessageFrame extends ChatMessage {
  type: "message";
}

export interface RoomAckFrame {
  type: "ack";
  action: "joinRoom" | "leaveRoom";
  roomId: string;
}

export interface SendAckFrame {
  type: "ack";
  action: "sendMessage";
  roomId: string;
  clientMessageId: string | null;
  messageId: string;
  timestamp: number;
  duplicate: boolean;
  seq?: number;
}

export interface AttachmentUrlFrame {
  type: "ack";
  action: "getAttachmentUrl";
  roomId: string;
  key: string;
  url: string;
  expiresAt: number;
}

export interface HistoryFrame {
  type: "messages";
  roomId: string;
  messages: ChatMessage[];
  nextBefore: string | null;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  action?: string;
  field?: string;
}

/** Another connection of the user joined or left a room (contract v2). */
export interface RoomChangeFrame {
  type: "roomJoined" | "roomLeft";
  roomId: string;
}

/** The user became a participant of a chat (created it, or was added). */
export interface ChatAddedFrame {
  type: "chatAdded";
  chat: ChatSummary;
}

/** The user is no longer a participant of a chat (left it). */
export interface ChatRemovedFrame {
  type: "chatRemoved";
  chatId: string;
}

export type ServerFrame =
  | MessageFrame
  | RoomAckFrame
  | SendAckFrame
  | AttachmentUrlFrame
  | HistoryFrame
  | ErrorFrame
  | RoomChangeFrame
  | ChatAddedFrame
  | ChatRemovedFrame;

export type ClientFrame =
  | { action: "joinRoom"; roomId: string }
  | { action: "leaveRoom"; roomId: string }
  | {
      action: "sendMessage";
      roomId: string;
      message: string;
      clientMessageId: string;
      attachments?: Attachment[];
    }
  | { action: "getAttachmentUrl"; roomId: string; key: string }
  | { action: "getMessages"; roomId: string; limit: number; before?: string };

/** A frame as it goes on the wire: a chat's conversation key becomes its ``chatId``. */
export type WireFrame =
  | ClientFrame
  | { action: "sendMessage"; chatId: string; message: string; clientMessageId: string; attachments?: Attachment[] }
  | { action: "getAttachmentUrl"; chatId: string; key: string }
  | { action: "getMessages"; chatId: string; limit: number; before?: string };

const CHAT_PREFIX = "chat:";

/** The conversation key of a chat (room ids cannot contain ":"). */
export function chatKey(chatId: string): string {
  return `${CHAT_PREFIX}${chatId}`;
}

/** Whether a conversation key names a chat. */
export function isChatKey(key: string): boolean {
  return key.startsWith(CHAT_PREFIX);
}

/** The chat id of a chat's conversation key. */
export function chatIdOf(key: string): string {
  return key.slice(CHAT_PREFIX.length);
}

/** ``frame`` as sent: a chat's messages and history requests name its ``chatId``. */
export function toWire(frame: ClientFrame): WireFrame {
  if (
    (frame.action === "sendMessage" || frame.action === "getMessages" || frame.action === "getAttachmentUrl") &&
    isChatKey(frame.roomId)
  ) {
    const { roomId, ...rest } = frame;
    return { ...rest, chatId: chatIdOf(roomId) };
  }
  return frame;
}

export const DEFAULT_ROOM = "general";
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_ROOMS = 50;
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The conversation key a frame names: its ``roomId``, or its ``chatId`` as ``chat:{chatId}``. */
function targetOf(value: Record<string, unknown>): string | null {
  if (typeof value.roomId === "string") return value.roomId;
  if (typeof value.chatId === "string") return chatKey(value.chatId);
  return null;
}

function withTarget(value: unknown): unknown {
  if (!isObject(value)) return value;
  const target = targetOf(value);
  return target === null ? value : { ...value, roomId: target };
}

function isMessage(value: unknown): value is ChatMessage {
  return (
    isObject(value) &&
    typeof value.messageId === "string" &&
    typeof value.roomId === "string" &&
    typeof value.userId === "string" &&
    typeof value.username === "string" &&
    typeof value.message === "string" &&
    typeof value.timestamp === "number"
  );
}

function isAttachment(value: unknown): value is Attachment {
  return (
    isObject(value) &&
    typeof value.key === "string" &&
    typeof value.contentType === "string" &&
    typeof value.size === "number" &&
    typeof value.name === "string"
  );
}

function toAttachments(value: unknown): Attachment[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const found = value
    .filter(isAttachment)
    .map(({ key, contentType, size, name }) => ({ key, contentType, size, name }));
  return found.length > 0 ? found : undefined;
}

function toMessage(value: ChatMessage): ChatMessage {
  const attachments = toAttachments(value.attachments);
  return {
    messageId: value.messageId,
    roomId: value.roomId,
    userId: value.userId,
    username: value.username,
    message: value.message,
    timestamp: value.timestamp,
    clientMessageId: typeof value.clientMessageId === "string" ? value.clientMessageId : null,
    ...(typeof value.seq === "number" ? { seq: value.seq } : {}),
    ...(attachments ? { attachments } : {}),
  };
}

function isPerson(value: unknown): value is Person {
  return isObject(value) && typeof value.userId === "string" && typeof value.username === "string";
}

/** A chat object from the server, or null when it is not one. */
export function parseChat(value: unknown): ChatSummary | null {
  if (!isObject(value) || typeof value.chatId !== "string") return null;
  if (value.type !== "direct" && value.type !== "group") return null;
  const number = (v: unknown) => (typeof v === "number" ? v : 0);
  const last = isObject(value.lastMessage) ? value.lastMessage : null;
  return {
    chatId: value.chatId,
    type: value.type,
    name: typeof value.name === "string" ? value.name : null,
    peer: isPerson(value.peer) ? { userId: value.peer.userId, username: value.peer.username } : null,
    createdAt: number(value.createdAt),
    lastActivity: number(value.lastActivity),
    lastMessage:
      last !== null && typeof last.messageId === "string" && typeof last.preview === "string"
        ? {
            messageId: last.messageId,
            userId: typeof last.userId === "string" ? last.userId : "",
            username: typeof last.username === "string" ? last.username : "",
            preview: last.preview,
            timestamp: number(last.timestamp),
            seq: number(last.seq),
          }
        : null,
    lastSeq: number(value.lastSeq),
    readSeq: number(value.readSeq),
    unreadCount: number(value.unreadCount),
    ...(isObject(value.presence) && typeof value.presence.online === "boolean"
      ? {
          presence: {
            online: value.presence.online,
            lastSeen: typeof value.presence.lastSeen === "number" ? value.presence.lastSeen : null,
          },
        }
      : {}),
  };
}

/** A chat detail (a chat and its participants), or null. */
export function parseChatDetail(value: unknown): ChatDetail | null {
  const chat = parseChat(value);
  if (chat === null || !isObject(value) || !Array.isArray(value.participants)) return null;
  return {
    ...chat,
    participants: value.participants.filter(isPerson).map((p) => ({ userId: p.userId, username: p.username })),
  };
}

/** People from ``GET /users`` or a participant list: only ids and names are kept. */
export function parsePeople(value: unknown): Person[] {
  return Array.isArray(value)
    ? value.filter(isPerson).map((p) => ({ userId: p.userId, username: p.username }))
    : [];
}

/** Parse one server frame; anything that is not a frame this client understands gives null. */
export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const target = targetOf(value);
  switch (value.type) {
    case "message": {
      const message = withTarget(value);
      return isMessage(message) ? { type: "message", ...toMessage(message) } : null;
    }
    case "messages":
      if (target === null || !Array.isArray(value.messages)) return null;
      return {
        type: "messages",
        roomId: target,
        messages: value.messages
          .map((m) => (isObject(m) ? { roomId: target, ...(withTarget(m) as object) } : m))
          .filter(isMessage)
          .map(toMessage),
        nextBefore: typeof value.nextBefore === "string" ? value.nextBefore : null,
      };
    case "ack":
      if (target === null) return null;
      if (
        value.action === "getAttachmentUrl" &&
        typeof value.key === "string" &&
        typeof value.url === "string" &&
        typeof value.expiresAt === "number"
      ) {
        return {
          type: "ack",
          action: "getAttachmentUrl",
          roomId: target,
          key: value.key,
          url: value.url,
          expiresAt: value.expiresAt,
        };
      }
      if (value.action === "joinRoom" || value.action === "leaveRoom") {
        return { type: "ack", action: value.action, roomId: target };
      }
      if (
        value.action === "sendMessage" &&
        typeof value.messageId === "string" &&
        typeof value.timestamp === "number"
      ) {
        return {
          type: "ack",
          action: "sendMessage",
          roomId: target,
          clientMessageId: typeof value.clientMessageId === "string" ? value.clientMessageId : null,
          messageId: value.messageId,
          timestamp: value.timestamp,
          duplicate: value.duplicate === true,
          ...(typeof value.seq === "number" ? { seq: value.seq } : {}),
        };
      }
      return null;
    case "roomJoined":
    case "roomLeft":
      return typeof value.roomId === "string" ? { type: value.type, roomId: value.roomId } : null;
    case "chatAdded": {
      const chat = parseChat(value.chat);
      return chat === null ? null : { type: "chatAdded", chat };
    }
    case "chatRemoved":
      return typeof value.chatId === "string" ? { type: "chatRemoved", chatId: value.chatId } : null;
    case "error":
      return {
        type: "error",
        code: typeof value.code === "string" ? value.code : "UNKNOWN",
        message: typeof value.message === "string" ? value.message : "Something went wrong",
        ...(typeof value.action === "string" ? { action: value.action } : {}),
        ...(typeof value.field === "string" ? { field: value.field } : {}),
      };
    default:
      return null;
  }
}

/** Why a room name is not acceptable, or null if it is. */
export function roomNameError(name: string): string | null {
  if (name.length === 0) return "Enter a room name.";
  if (!ROOM_ID.test(name)) return "Use 1–64 letters, digits, “_” or “-”.";
  return null;
}

/** Whether ``id`` has a chat id's shape (contract §8: 1–64 of ``A-Z a-z 0-9 _ -``, as room ids). */
export function isChatId(id: string): boolean {
  return ROOM_ID.test(id);
}

/** Message length in Unicode code points, as the server counts it. */
export function codePoints(text: string): number {
  return Array.from(text).length;
}
