import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Api, requestUpload, uploadFile } from "../api";
import { conversationList } from "../chat/conversations";
import { messageStatus, presenceText, typingNames, typingText } from "../chat/receipts";
import { roomMessageStatus } from "../chat/roomReceipts";
import { conversationName, totalUnread } from "../chat/state";
import { chatIdOf, isChatKey } from "../chat/types";
import { documentTitle } from "../format";
import { useChatClient } from "../hooks/useChatClient";
import { useConversations } from "../hooks/useConversations";
import { useRoomAddress } from "../hooks/useRoomAddress";
import { useRoomReceipts } from "../hooks/useRoomReceipts";
import type { Session } from "../session";
import { AttachmentUrls } from "./Attachments";
import { ChatHeader } from "./ChatHeader";
import { Composer, type Uploader } from "./Composer";
import { MessageList } from "./MessageList";
import { Sidebar } from "./Sidebar";
import { TopBar } from "./TopBar";

/** After this many failed connection attempts in a row, suggest logging in again. */
const STUCK_AFTER_FAILURES = 4;

interface Props {
  session: Session;
  restUrl: string;
  wsUrl: string;
  onLogout: () => void;
  onSessionExpired: () => void;
}

export function ChatView({ session, restUrl, wsUrl, onLogout, onSessionExpired }: Props) {
  const client = useChatClient(session, wsUrl, onSessionExpired);
  const state = useSyncExternalStore(client.subscribe, client.getState);
  const api = useMemo(() => new Api(restUrl, session.token), [restUrl, session.token]);
  useConversations(client, api, state);
  useRoomReceipts(client, api, state);
  const name = conversationName(state, state.activeRoom);
  const conversations = useMemo(
    () =>
      conversationList(state.roomOrder.map((id) => state.rooms[id]), state.chats).map((entry) => {
        const peer = isChatKey(entry.key) ? state.chats[chatIdOf(entry.key)]?.peer : null;
        return peer ? { ...entry, online: state.presence[peer.userId]?.online === true } : entry;
      }),
    [state.roomOrder, state.rooms, state.chats, state.presence],
  );
  const [drawerOpen, setDrawerOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);
  const room = state.rooms[state.activeRoom];
  const pending = state.outbox.filter((m) => m.roomId === room.id);
  const me = session.user;
  const unread = totalUnread(state);
  useRoomAddress(client, state.activeRoom, state.roomOrder, state.addressChat !== null);
  const chatId = isChatKey(room.id) ? chatIdOf(room.id) : null;
  const chat = chatId !== null ? state.chats[chatId] : undefined;
  const peer = chat?.peer ?? null;
  const typing = chatId !== null ? typingText(typingNames(state.typing, chatId, state.now)) : "";
  const markers = chatId !== null ? state.markers[chatId] : undefined;
  const participants = useMemo(
    () => [...new Set([me.userId, ...(peer ? [peer.userId] : []), ...Object.keys(markers ?? {})])],
    [me.userId, peer, markers],
  );

  // A clock for typing indicators (they expire) and for telling the others one stopped typing.
  useEffect(() => {
    client.tick();
    const timer = window.setInterval(() => client.tick(), 1000);
    return () => window.clearInterval(timer);
  }, [client]);

  useEffect(() => {
    document.title = documentTitle(name, unread);
  }, [name, unread]);

  useEffect(() => {
    if (!drawerOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setDrawerOpen(false);
        menuButton.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [drawerOpen]);

  function select(roomId: string) {
    client.selectRoom(roomId);
    setDrawerOpen(false);
  }

  function logout() {
    client.stop();
    onLogout();
  }

  const upload: Uploader = async (file, name, onProgress) => {
    const grant = await requestUpload(restUrl, session.token, file, name);
    await uploadFile(grant, file, onProgress);
    return { key: grant.key, contentType: file.type, size: file.size, name };
  };
  const attachmentUrl = useCallback((roomId: string, key: string) => client.attachmentUrl(roomId, key), [client]);

  const unreadElsewhere = state.roomOrder.reduce(
    (sum, id) => sum + (id === state.activeRoom ? 0 : state.rooms[id].unread),
    0,
  );

  return (
    <AttachmentUrls.Provider value={attachmentUrl}>
    <div className="chat-app">
      <a className="skip-link" href="#composer">
        Skip to the message box
      </a>
      <TopBar
        me={me}
        state={state}
        unreadElsewhere={unreadElsewhere}
        menuOpen={drawerOpen}
        menuButton={menuButton}
        onToggleMenu={() => setDrawerOpen((open) => !open)}
        onRetry={() => client.retryNow()}
        onLogout={logout}
      />
      <div className="chat-body">
        <aside id="rooms-panel" className={drawerOpen ? "sidebar open" : "sidebar"} aria-label="Rooms and joining">
          <Sidebar
            conversations={conversations}
            activeRoom={state.activeRoom}
            api={api}
            me={me}
            onChatOpened={(chat) => {
              client.openChat(chat);
              setDrawerOpen(false);
            }}
            onSelect={select}
            onJoin={(roomId) => {
              client.joinRoom(roomId);
              setDrawerOpen(false);
            }}
            onLeave={(roomId) => client.leaveRoom(roomId)}
          />
        </aside>
        {drawerOpen && <div className="scrim" aria-hidden="true" onClick={() => setDrawerOpen(false)} />}
        <main className="room" aria-labelledby="room-title">
          {isChatKey(room.id) ? (
            <ChatHeader
              key={room.id}
              api={api}
              chatId={chatIdOf(room.id)}
              chat={state.chats[chatIdOf(room.id)]}
              name={name}
              presence={peer ? presenceText(state.presence[peer.userId], state.now || Date.now()) : ""}
              onChanged={(chat) => client.chatsLoaded([chat], false)}
              onLeft={() => client.forgetChat(chatIdOf(room.id))}
            />
          ) : (
            <div className="room-header">
              <h1 id="room-title">
                <span className="hash" aria-hidden="true">
                  #
                </span>
                {room.id}
              </h1>
              {room.id !== "general" && (
                <button type="button" className="button ghost small" onClick={() => client.leaveRoom(room.id)}>
                  Leave
                </button>
              )}
            </div>
          )}
          {state.status !== "connected" && state.failures >= STUCK_AFTER_FAILURES && (
            <div className="banner info notice" role="status">
              <span>
                Still can't reach the chat server. It may be down for a moment, or you may need to log in
                again.
              </span>
              <button type="button" className="link small" onClick={logout}>
                Log in again
              </button>
            </div>
          )}
          {state.notice && (
            <div className="banner error notice" role="alert">
              <span>{state.notice}</span>
              <button type="button" className="link small" onClick={() => client.dismissNotice()}>
                Dismiss
              </button>
            </div>
          )}
          <MessageList
            room={room}
            name={name}
            pending={pending}
            myUserId={me.userId}
            status={state.status}
            onLoadOlder={() => client.loadOlder(room.id)}
            onRetry={(id) => client.retryMessage(id)}
            onDiscard={(id) => client.discardMessage(id)}
            statusOf={
              chatId === null
                ? (message) => roomMessageStatus(message, state.roomCounts[room.id])
                : (message) => messageStatus(message.seq ?? null, me.userId, participants, markers)
            }
            group={chatId === null || chat?.type === "group"}
          />
          <p className="typing-indicator" aria-live="polite">
            {typing}
          </p>
          <Composer
            roomId={room.id}
            name={name}
            status={state.status}
            onSend={(text, attachments) => {
              client.typingDone(true);
              client.send(text, room.id, attachments);
            }}
            onTyping={(text) => (text.trim() ? client.typed(room.id) : client.typingDone(true))}
            upload={upload}
          />
        </main>
      </div>
      <div className="sr-only" role="log" aria-label="New messages" aria-atomic="true">
        {state.announcement && <p key={state.announcement.seq}>{state.announcement.text}</p>}
      </div>
    </div>
    </AttachmentUrls.Provider>
  );
}
