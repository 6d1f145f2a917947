/** The logged-in session, kept in localStorage: the token, its expiry and the user. */

import type { KeyValueStore } from "./chat/client";
import type { User } from "./chat/types";

export interface Session {
  token: string;
  user: User;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export const SESSION_KEY = "chatstack.session";

/** The ``exp`` claim of a JWT in milliseconds, or null (the signature is the server's business). */
export function tokenExpiry(token: string): number | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export function newSession(token: string, expiresIn: number, user: User, now = Date.now()): Session {
  return { token, user, expiresAt: tokenExpiry(token) ?? now + expiresIn * 1000 };
}

export function isExpired(session: Session, now = Date.now()): boolean {
  return now >= session.expiresAt;
}

export function loadSession(storage: KeyValueStore, now = Date.now()): Session | null {
  try {
    const raw = storage.getItem(SESSION_KEY);
    if (raw === null) return null;
    const session = JSON.parse(raw) as Session;
    if (typeof session.token !== "string" || typeof session.user?.userId !== "string") return null;
    return isExpired(session, now) ? null : session;
  } catch {
    return null;
  }
}

export function saveSession(storage: KeyValueStore, session: Session): void {
  storage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(storage: KeyValueStore): void {
  storage.removeItem(SESSION_KEY);
}
