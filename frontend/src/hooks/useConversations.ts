import { useEffect, useRef } from "react";
import type { Api } from "../api";
import type { ChatClient } from "../chat/client";
import type { ChatState } from "../chat/state";
import { chatIdOf, isChatKey } from "../chat/types";

/**
 * The server's side of the conversation list (contract v2): on every new connection, the
 * user's chats (``GET /chats``) and rooms (``GET /me/rooms``) — a chat added while this browser
 * was away appears, as do rooms joined on another device; and the read marker of the chat on
 * screen moved to its newest message. A v1 stage has none of these routes: the list is then
 * the rooms this browser joined.
 */
export function useConversations(client: ChatClient, api: Api, state: ChatState): void {
  useEffect(() => {
    if (state.connections === 0) return;
    let current = true;
    api.allChats().then(
      ({ chats, complete }) => {
        if (!current) return;
        client.chatsLoaded(chats, complete);
        // Beyond the pages read, a chat the address named cannot be told from one never had.
        if (!complete) client.chatsFailed();
      },
      () => current && client.chatsFailed(),
    );
    api.myRooms().then(
      (rooms) => current && client.roomsLoaded(rooms),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [api, client, state.connections]);

  // The markers of the chat on screen, for the ticks on one's own messages (contract v3). Live
  // receipt frames keep a direct chat's (and a small group's) up to date; a group's are also
  // fetched again on each of its messages and every 15 s, as a group above the stage's bound
  // gets no receipt frames.
  const activeKey = state.activeRoom;
  const activeChatId = isChatKey(activeKey) ? chatIdOf(activeKey) : null;
  const group = activeChatId !== null && state.chats[activeChatId]?.type === "group";
  const activeSeq = (state.rooms[activeKey]?.messages ?? []).reduce((n, m) => Math.max(n, m.seq ?? 0), 0);
  const refresh = group ? `${activeSeq}/${Math.floor(state.now / 15_000)}` : "";
  useEffect(() => {
    if (activeChatId === null || state.connections === 0) return;
    let current = true;
    api.receipts(activeChatId).then(
      (markers) => current && client.markersLoaded(activeChatId, markers),
      () => {},
    );
    return () => {
      current = false;
    };
  }, [api, client, activeChatId, state.connections, refresh]);

  const marked = useRef<Record<string, number>>({});
  const key = state.activeRoom;
  const room = state.rooms[key];
  const chat = isChatKey(key) ? state.chats[chatIdOf(key)] : undefined;
  let newest = 0;
  for (const message of room?.messages ?? []) newest = Math.max(newest, message.seq ?? 0);
  const readSeq = chat?.readSeq ?? 0;
  useEffect(() => {
    if (!isChatKey(key) || !state.visible || newest <= readSeq) return;
    const chatId = chatIdOf(key);
    if ((marked.current[chatId] ?? 0) >= newest) return;
    marked.current[chatId] = newest;
    api.markRead(chatId, newest).then(
      (summary) => summary !== null && client.chatsLoaded([summary], false),
      () => {
        marked.current[chatId] = 0; // try again with the next message
      },
    );
  }, [api, client, key, newest, readSeq, state.visible]);
}
