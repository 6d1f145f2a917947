/** Message ordering, de-duplication and history merging — the server's order, by messageId. */

import type { ChatMessage } from "./types";

/** A position in a room's history: the server sorts by timestamp, then messageId. */
export interface MessageKey {
  timestamp: number;
  messageId: string;
}

export function keyOf(message: ChatMessage): MessageKey {
  return { timestamp: message.timestamp, messageId: message.messageId };
}

/** Negative if a comes before b in a room's history (the server's `{timestamp}#{messageId}`). */
export function compareKeys(a: MessageKey, b: MessageKey): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.messageId === b.messageId) return 0;
  return a.messageId < b.messageId ? -1 : 1;
}

export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  return compareKeys(a, b);
}

/**
 * Merge ``incoming`` into ``existing`` (both oldest first): every messageId once, in server order.
 * Returns ``existing`` itself when nothing new arrived, so React can skip a render.
 */
export function mergeMessages(
  existing: readonly ChatMessage[],
  incoming: readonly ChatMessage[],
): ChatMessage[] {
  const known = new Set(existing.map((m) => m.messageId));
  const fresh: ChatMessage[] = [];
  for (const message of incoming) {
    if (!known.has(message.messageId)) {
      known.add(message.messageId);
      fresh.push(message);
    }
  }
  if (fresh.length === 0) return existing as ChatMessage[];
  fresh.sort(compareMessages);
  const last = existing[existing.length - 1];
  if (last === undefined || compareMessages(last, fresh[0]) < 0) return [...existing, ...fresh];
  return [...existing, ...fresh].sort(compareMessages);
}

/** The newest of two keys (null counts as "nothing yet"). */
export function maxKey(a: MessageKey | null, b: MessageKey | null): MessageKey | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareKeys(a, b) >= 0 ? a : b;
}

/** The newest key among ``messages``, or ``since`` if that is newer. */
export function newestKey(messages: readonly ChatMessage[], since: MessageKey | null = null) {
  let key = since;
  for (const message of messages) key = maxKey(key, keyOf(message));
  return key;
}
