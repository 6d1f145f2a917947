import { useEffect, useRef } from "react";
import type { ChatClient } from "../chat/client";
import { chatIdOf, isChatKey } from "../chat/types";
import { addressChange, conversationFromSearch } from "../roomUrl";

/**
 * Keep the conversation on screen (a room or a chat) in the page's address: moving to another
 * adds a history entry, so Back returns to the one before; Back, Forward or a pasted address
 * open the one it names. While a chat the address named waits for the user's chat list
 * (``waiting``), the address is left as it is.
 */
export function useRoomAddress(
  client: ChatClient,
  activeRoom: string,
  openRooms: readonly string[],
  waiting: boolean,
): void {
  const firstRender = useRef(true);
  const rooms = useRef(openRooms);
  rooms.current = openRooms;

  useEffect(() => {
    if (waiting) return;
    follow(activeRoom, rooms.current, firstRender.current);
    firstRender.current = false;
  }, [activeRoom, waiting]);

  useEffect(() => {
    const onPopState = () => {
      const key = conversationFromSearch(location.search);
      if (key === null) return;
      if (isChatKey(key)) client.showChat(chatIdOf(key));
      else client.joinRoom(key);
      // A chat that is not the user's leaves the conversation on screen as it was: the entry
      // is replaced at once (the effect above would not run).
      const state = client.getState();
      if (state.addressChat === null) follow(state.activeRoom, state.roomOrder, false);
    };
    window.addEventListener("popstate", onPopState);
    return () => window.removeEventListener("popstate", onPopState);
  }, [client]);
}

/** Bring the address to the conversation on screen (``activeRoom``), as ``addressChange`` says. */
function follow(activeRoom: string, openRooms: readonly string[], firstRender: boolean): void {
  const change = addressChange(location.search, activeRoom, openRooms, firstRender);
  if (change === null) return;
  const url = `${location.pathname}${change.search}`;
  if (change.kind === "push") history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
