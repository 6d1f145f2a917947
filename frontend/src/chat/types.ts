/** The wire contract (conformance/CONTRACT.md) as TypeScript types, and a tolerant frame parser. */

export interface User {
  userId: string;
  email: string;
  username: string;
}

/** A stored chat message, as broadcast and as returned by getMessages. */
export interface ChatMessage {
  messageId: string;
  roomId: string;
  userId: string;
  username: string;
  message: string;
  timestamp: number;
  clientMessageId: string | null;
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

export type ServerFrame = MessageFrame | RoomAckFrame | SendAckFrame | HistoryFrame | ErrorFrame;

export type ClientFrame =
  | { action: "joinRoom"; roomId: string }
  | { action: "leaveRoom"; roomId: string }
  | { action: "sendMessage"; roomId: string; message: string; clientMessageId: string }
  | { action: "getMessages"; roomId: string; limit: number; before?: string };

export const DEFAULT_ROOM = "general";
export const MAX_MESSAGE_CHARS = 4000;
export const MAX_ROOMS = 50;
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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

function toMessage(value: ChatMessage): ChatMessage {
  return {
    messageId: value.messageId,
    roomId: value.roomId,
    userId: value.userId,
    username: value.username,
    message: value.message,
    timestamp: value.timestamp,
    clientMessageId: typeof value.clientMessageId === "string" ? value.clientMessageId : null,
  };
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
  switch (value.type) {
    case "message":
      return isMessage(value) ? { type: "message", ...toMessage(value) } : null;
    case "messages":
      if (typeof value.roomId !== "string" || !Array.isArray(value.messages)) return null;
      return {
        type: "messages",
        roomId: value.roomId,
        messages: value.messages.filter(isMessage).map(toMessage),
        nextBefore: typeof value.nextBefore === "string" ? value.nextBefore : null,
      };
    case "ack":
      if (typeof value.roomId !== "string") return null;
      if (value.action === "joinRoom" || value.action === "leaveRoom") {
        return { type: "ack", action: value.action, roomId: value.roomId };
      }
      if (
        value.action === "sendMessage" &&
        typeof value.messageId === "string" &&
        typeof value.timestamp === "number"
      ) {
        return {
          type: "ack",
          action: "sendMessage",
          roomId: value.roomId,
          clientMessageId: typeof value.clientMessageId === "string" ? value.clientMessageId : null,
          messageId: value.messageId,
          timestamp: value.timestamp,
          duplicate: value.duplicate === true,
        };
      }
      return null;
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

/** Message length in Unicode code points, as the server counts it. */
export function codePoints(text: string): number {
  return Array.from(text).length;
}
