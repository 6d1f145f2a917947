/** The REST API: signup and login, the user's rooms, people and chats (contract v2, with the
 * token as ``Authorization: Bearer``), with the contract's error shape turned into ApiError. */

import {
  parseChat,
  parseChatDetail,
  parsePeople,
  type ChatDetail,
  type ChatSummary,
  type Person,
  type User,
} from "./chat/types";
import type { Markers } from "./chat/receipts";
import { parseRoomCounts, type RoomCounts, type RoomPosition } from "./chat/roomReceipts";

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

async function request<T>(
  restUrl: string,
  path: string,
  options: { method?: "GET" | "POST"; body?: unknown; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(`${restUrl}${path}`, {
      method: options.method ?? "POST",
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
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

function post<T>(restUrl: string, path: string, body: unknown): Promise<T> {
  return request<T>(restUrl, path, { body });
}

export function signup(restUrl: string, email: string, password: string, username: string): Promise<User> {
  return post<User>(restUrl, "/signup", { email, password, username });
}

export function login(restUrl: string, email: string, password: string): Promise<LoginResult> {
  return post<LoginResult>(restUrl, "/login", { email, password });
}

function query(params: Record<string, string | number | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function detailOf(value: unknown): ChatDetail {
  const chat = parseChatDetail(value);
  if (chat === null) throw new ApiError("HTTP_ERROR", "The server's answer was not a chat. Try again.");
  return chat;
}

/** The REST calls of a logged-in user (contract v2). */
export class Api {
  constructor(
    readonly restUrl: string,
    private readonly token: string,
  ) {}

  private get<T>(path: string): Promise<T> {
    return request<T>(this.restUrl, path, { method: "GET", token: this.token });
  }

  private send<T>(path: string, body: unknown = {}): Promise<T> {
    return request<T>(this.restUrl, path, { method: "POST", token: this.token, body });
  }

  /** The user's rooms, as the server keeps them. */
  async myRooms(): Promise<string[]> {
    const answer = await this.get<{ rooms?: { roomId?: unknown }[] }>("/me/rooms");
    return (answer.rooms ?? []).map((r) => r.roomId).filter((id): id is string => typeof id === "string");
  }

  /** The directory: rooms with members whose name starts with ``prefix``, by name. */
  async rooms(prefix: string, limit = 8): Promise<{ roomId: string; members: number }[]> {
    const answer = await this.get<{ rooms?: { roomId?: unknown; members?: unknown }[] }>(
      `/rooms${query({ prefix, limit })}`,
    );
    return (answer.rooms ?? []).flatMap((r) =>
      typeof r.roomId === "string" ? [{ roomId: r.roomId, members: typeof r.members === "number" ? r.members : 0 }] : [],
    );
  }

  /** One page of the user's chats, most recent activity first. */
  async chats(cursor: string | null = null, limit = 50): Promise<{ chats: ChatSummary[]; nextCursor: string | null }> {
    const answer = await this.get<{ chats?: unknown[]; nextCursor?: unknown }>(`/chats${query({ limit, cursor })}`);
    return {
      chats: (answer.chats ?? []).map(parseChat).filter((c): c is ChatSummary => c !== null),
      nextCursor: typeof answer.nextCursor === "string" ? answer.nextCursor : null,
    };
  }

  /** Every chat of the user (at most ``maxPages`` pages). */
  async allChats(maxPages = 10): Promise<{ chats: ChatSummary[]; complete: boolean }> {
    const chats: ChatSummary[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await this.chats(cursor);
      chats.push(...answer.chats);
      cursor = answer.nextCursor;
      if (cursor === null) return { chats, complete: true };
    }
    return { chats, complete: false };
  }

  /** People whose username starts with ``prefix`` (ids and names only). */
  async searchUsers(prefix: string, limit = 10): Promise<Person[]> {
    const answer = await this.get<{ users?: unknown }>(`/users${query({ prefix, limit })}`);
    return parsePeople(answer.users);
  }

  /** The direct chat with ``userId`` (the existing one if there is one). */
  async directChat(userId: string): Promise<ChatDetail> {
    return detailOf(await this.send("/chats", { type: "direct", userId }));
  }

  /** A new group named ``name`` with the caller and ``participants``. */
  async createGroup(name: string, participants: string[]): Promise<ChatDetail> {
    return detailOf(await this.send("/chats", { type: "group", name, participants }));
  }

  async chat(chatId: string): Promise<ChatDetail> {
    return detailOf(await this.get(`/chats/${encodeURIComponent(chatId)}`));
  }

  async addParticipants(chatId: string, userIds: string[]): Promise<ChatDetail> {
    return detailOf(await this.send(`/chats/${encodeURIComponent(chatId)}/participants`, { userIds }));
  }

  async leaveChat(chatId: string): Promise<void> {
    await this.send(`/chats/${encodeURIComponent(chatId)}/leave`);
  }

  /** Every participant's delivered and read markers of a chat (contract v3). */
  async receipts(chatId: string): Promise<(Markers & { userId: string })[]> {
    const body = await this.get<{ receipts?: unknown } | null>(`/chats/${encodeURIComponent(chatId)}/receipts`);
    const list = body?.receipts;
    if (!Array.isArray(list)) return [];
    return list.flatMap((r: unknown) => {
      if (typeof r !== "object" || r === null) return [];
      const { userId, deliveredSeq, readSeq } = r as Record<string, unknown>;
      if (typeof userId !== "string" || typeof deliveredSeq !== "number" || typeof readSeq !== "number") return [];
      return [{ userId, deliveredSeq, readSeq }];
    });
  }

  /** How many of a room's other members got and read the message at ``position``, or null if
   * the answer has no counts (rooms have no receipt frames: counts on request). */
  async roomReceipts(roomId: string, position: RoomPosition): Promise<RoomCounts | null> {
    const path = `/rooms/${encodeURIComponent(roomId)}/receipts${query({ ...position })}`;
    return parseRoomCounts(await this.get<unknown>(path));
  }

  /** Move the caller's read marker to ``seq``; returns the chat as it is now. */
  async markRead(chatId: string, seq: number): Promise<ChatSummary | null> {
    return parseChat(await this.send(`/chats/${encodeURIComponent(chatId)}/read`, { seq }));
  }
}

/** A presigned upload (POST /upload-url): POST ``fields`` then the file to ``url``. */
export interface UploadGrant {
  key: string;
  url: string;
  method: "POST";
  fields: Record<string, string>;
  expiresAt: number;
}

export function requestUpload(restUrl: string, token: string, file: File | Blob, name: string): Promise<UploadGrant> {
  return request<UploadGrant>(restUrl, "/upload-url", {
    method: "POST",
    token,
    body: { contentType: file.type, size: file.size, name },
  });
}

/**
 * Send the file to the storage with the grant's form (S3's "POST Object": the fields, then the
 * file last), reporting progress from 0 to 1. XMLHttpRequest, as fetch reports no upload progress.
 */
export function uploadFile(
  grant: UploadGrant,
  file: File | Blob,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", grant.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiError("UPLOAD_REFUSED", `The storage refused the file (HTTP ${request.status}).`));
      }
    };
    request.onerror = () => reject(new ApiError("NETWORK_ERROR", "The upload failed: check your connection."));
    request.send(form);
  });
}
