/**
 * The room on screen in the page's address (``?room=team``), so Back, reload and shared links
 * work. One build serves every stage from any path: only the query string is ever changed.
 */

import { roomNameError } from "./chat/types";

const PARAM = "room";

/** The room a query string names, or null when it names none (or not a valid room name). */
export function roomFromSearch(search: string): string | null {
  const room = new URLSearchParams(search).get(PARAM);
  return room !== null && roomNameError(room) === null ? room : null;
}

/** The query string naming ``room``, keeping any other parameters. */
export function searchForRoom(search: string, room: string): string {
  const params = new URLSearchParams(search);
  params.set(PARAM, room);
  return `?${params.toString()}`;
}

/** The query string with no room (after logging out). */
export function searchWithoutRoom(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(PARAM);
  const rest = params.toString();
  return rest === "" ? "" : `?${rest}`;
}

/**
 * How the address should follow a change of the room on screen: nothing when it names that
 * room already; a new history entry when the reader moved from one open room to another (so
 * Back returns there); replacing the entry when the address named no open room (first load, a
 * room just left or refused) — Back should not lead to a room that is gone.
 */
export function addressChange(
  search: string,
  activeRoom: string,
  openRooms: readonly string[],
  firstRender: boolean,
): { kind: "push" | "replace"; search: string } | null {
  const named = roomFromSearch(search);
  if (named === activeRoom) return null;
  const replace = firstRender || named === null || !openRooms.includes(named);
  return { kind: replace ? "replace" : "push", search: searchForRoom(search, activeRoom) };
}
