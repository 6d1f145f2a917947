import { useEffect, useRef } from "react";
import type { ChatClient } from "../chat/client";
import { addressChange, roomFromSearch } from "../roomUrl";

/**
 * Keep the room on screen in the page's address: moving to another room adds a history entry,
 * so Back returns to the room before; Back, Forward or a pasted address open the room it names.
 */
export function useRoomAddress(client: ChatClient, activeRoom: string, openRooms: readonly string[]): void {
  const firstRender = useRef(true);
  const rooms = useRef(openRooms);
  rooms.current = openRooms;

  useEffect(() => {
    const change = addressChange(location.search, activeRoom, rooms.current, firstRender.current);
    firstRender.current = false;
    if (change === null) return;
    const url = `${location.pathname}${change.search}`;
    if (change.kind === "push") history.pushState(null, "", url);
    else history.replaceState(null, "", url);
  }, [activeRoom]);

  useEffect(() => {
    const onPopState = () => {
      const room = roomFromSearch(location.search);
      if (room !== null) client.joinRoom(room);
    };
    window.addEventListener("popstate", onPopState);
    return () => window.removeEventListener("popstate", onPopState);
  }, [client]);
}
