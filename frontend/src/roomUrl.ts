/**
 * The conversation on screen in the page's address — a room as ``?room=team``, a chat as
 * ``?chat={chatId}``, never both — so Back, reload and shared links work. One build serves every
 * stage from any path: only the query string is ever changed.
 */

import { chatIdOf, chatKey, isChatId, isChatKey, roomNameError } from "./chat/types";

const ROOM = "room";
const CHAT = "chat";

/** The room a query string names, or null when it names none (or not a valid room name). */
export function roomFromSearch(search: string): string | null {
  const room = new URLSearchParams(search).get(ROOM);
  return room !== null && roomNameError(room) === null ? room : null;
}

/** The chat id a query string names, or null when it names none (or not a valid chat id). */
export function chatFromSearch(search: string): string | null {
  const chatId = new URLSearchParams(search).get(CHAT);
  return chatId !== null && isChatId(chatId) ? chatId : null;
}

/**
 * The conversation key (a room id, or ``chat:{chatId}``) a query string names, or null. Should
 * an address name both (typed by hand), the chat is the one meant; the room is where to fall
 * back when that chat cannot be shown.
 */
export function conversationFromSearch(search: string): string | null {
  const chatId = chatFromSearch(search);
  return chatId !== null ? chatKey(chatId) : roomFromSearch(search);
}

/** The query string naming conversation ``key`` (a room or ``chat:{chatId}``), keeping any other
 * parameters; the other kind's parameter goes. */
export function searchFor(search: string, key: string): string {
  const params = new URLSearchParams(search);
  const chat = isChatKey(key);
  params.delete(chat ? ROOM : CHAT);
  params.set(chat ? CHAT : ROOM, chat ? chatIdOf(key) : key);
  return `?${params.toString()}`;
}

/** The query string with no room and no chat (after logging out). */
export function searchWithoutConversation(search: string): string {
  const params = new URLSearchParams(search);
  params.delete(ROOM);
  params.delete(CHAT);
  const rest = params.toString();
  return rest === "" ? "" : `?${rest}`;
}

/**
 * How the address should follow a change of the conversation on screen (``activeRoom``: a room
 * id or ``chat:{chatId}``): nothing when it names that conversation already; a new history
 * entry when the reader moved from one open conversation to another (so Back returns there);
 * replacing the entry when the address named no open conversation (first load, a room just
 * left or refused, a chat one is not in) or named both a room and a chat — Back should not lead
 * to a conversation that is gone.
 */
export function addressChange(
  search: string,
  activeRoom: string,
  openRooms: readonly string[],
  firstRender: boolean,
): { kind: "push" | "replace"; search: string } | null {
  const params = new URLSearchParams(search);
  const both = params.has(ROOM) && params.has(CHAT);
  const named = conversationFromSearch(search);
  if (named === activeRoom && !both) return null;
  const replace = firstRender || both || named === null || !openRooms.includes(named);
  return { kind: replace ? "replace" : "push", search: searchFor(search, activeRoom) };
}
