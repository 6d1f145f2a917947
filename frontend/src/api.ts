/** The REST API: signup and login, with the contract's error shape turned into ApiError. */

import type { User } from "./chat/types";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface LoginResult {
  token: string;
  expiresIn: number;
  user: User;
}

async function post<T>(restUrl: string, path: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${restUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError("NETWORK_ERROR", "Can't reach the server. Check your connection and try again.");
  }
  let payload: unknown = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (response.ok) return payload as T;
  const error = (payload as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)
    ?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    throw new ApiError(
      error.code,
      error.message,
      typeof error.field === "string" ? error.field : undefined,
      response.status,
    );
  }
  throw new ApiError("HTTP_ERROR", `The server answered ${response.status}. Try again.`, undefined, response.status);
}

export function signup(restUrl: string, email: string, password: string, username: string): Promise<User> {
  return post<User>(restUrl, "/signup", { email, password, username });
}

export function login(restUrl: string, email: string, password: string): Promise<LoginResult> {
  return post<LoginResult>(restUrl, "/login", { email, password });
}
