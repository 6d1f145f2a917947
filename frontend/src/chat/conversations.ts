/**
 * Conversations of contract v2: a room (its id) or a chat (``chat:{chatId}``) — one key space, so
 * history, outbox and unread counts work alike for both — and the list the sidebar shows.
 */

import { chatIdOf, isChatKey, type ChatSummary } from "./types";

/** How a chat is called: a group by its name, a direct chat by the other person. */
export function chatTitle(chat: ChatSummary | undefined): string {
  if (chat === undefined) return "Chat";
  if (chat.type === "group") return chat.name ?? "Group";
  return chat.peer?.username ?? "Direct chat";
}

export interface ConversationEntry {
  key: string;
  kind: "room" | "direct" | "group";
  title: string;
  preview: string | null;
  unread: number;
  activity: number;
  /** A direct chat's peer is online (contract v3). */
  online?: boolean;
}

interface Listed {
  id: string;
  unread: number;
  messages: readonly { timestamp: number; username: string; message: string }[];
}

/**
 * The sidebar's list: every room and chat, most recent activity first (a message seen here, or
 * a chat's last activity as the server reported it); rooms without activity keep their order.
 */
export function conversationList(
  rooms: readonly Listed[],
  chats: Readonly<Record<string, ChatSummary>>,
): ConversationEntry[] {
  const entries = rooms.map((room, index): ConversationEntry & { index: number } => {
    const last = room.messages.length > 0 ? room.messages[room.messages.length - 1] : undefined;
    const chat = isChatKey(room.id) ? chats[chatIdOf(room.id)] : undefined;
    let preview = last ? `${last.username}: ${last.message}` : null;
    let activity = last?.timestamp ?? 0;
    if (chat !== undefined) {
      if (chat.lastActivity > activity) {
        activity = chat.lastActivity;
        preview = chat.lastMessage ? `${chat.lastMessage.username}: ${chat.lastMessage.preview}` : null;
      }
    }
    return {
      key: room.id,
      kind: chat === undefined ? "room" : chat.type,
      title: chat === undefined ? room.id : chatTitle(chat),
      preview: preview === null ? null : preview.replace(/\s+/g, " ").trim(),
      unread: room.unread,
      activity,
      index,
    };
  });
  entries.sort((a, b) => b.activity - a.activity || a.index - b.index);
  return entries.map(({ index: _index, ...entry }) => entry);
}
