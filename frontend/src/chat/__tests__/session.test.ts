import { describe, expect, it } from "vitest";
import type { KeyValueStore } from "../client";
import { clearSession, loadSession, newSession, saveSession, tokenExpiry } from "../../session";
import { ME } from "./fakeServer";

function jwt(payload: object): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}.signature`;
}

function memory(): KeyValueStore {
  const data = new Map<string, string>();
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe("session", () => {
  it("reads the expiry from the token's exp claim", () => {
    expect(tokenExpiry(jwt({ sub: "u", exp: 2_000_000_000 }))).toBe(2_000_000_000_000);
    expect(tokenExpiry("garbage")).toBeNull();
    expect(tokenExpiry("a.%%%.c")).toBeNull();
  });

  it("falls back to expiresIn when the token has no exp", () => {
    expect(newSession(jwt({ sub: "u" }), 60, ME, 1000).expiresAt).toBe(61_000);
  });

  it("is kept in storage until it expires or is cleared", () => {
    const storage = memory();
    const session = newSession(jwt({ sub: "u", exp: 100 }), 100, ME);
    saveSession(storage, session);
    expect(loadSession(storage, 99_000)).toEqual(session);
    expect(loadSession(storage, 100_000)).toBeNull();
    clearSession(storage);
    expect(loadSession(storage, 0)).toBeNull();
    storage.setItem("chatstack.session", "{not json");
    expect(loadSession(storage, 0)).toBeNull();
  });
});
