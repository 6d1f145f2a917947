import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChatClient } from "../client";
import { parseFrame, type Attachment } from "../types";
import { FakeServer, ME } from "./fakeServer";

const PHOTO: Attachment = { key: "uploads/u-me/" + "a".repeat(32), contentType: "image/png", size: 42, name: "p.png" };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function connected() {
  const server = new FakeServer(ME);
  const client = new ChatClient({ wsUrl: "ws://stage/dev", token: "t", me: ME, createSocket: server.createSocket });
  client.start();
  server.last.accept();
  return { server, client };
}

describe("attachments", () => {
  it("parses a message's attachments and drops malformed ones", () => {
    const frame = parseFrame(
      JSON.stringify({
        type: "message",
        messageId: "m",
        roomId: "general",
        userId: "u",
        username: "u",
        message: "",
        timestamp: 1,
        clientMessageId: null,
        attachments: [PHOTO, { key: 1 }],
      }),
    );
    expect(frame).toMatchObject({ type: "message", attachments: [PHOTO] });
  });

  it("sends a message's attachments and shows them once acknowledged", () => {
    const { server, client } = connected();
    client.send("", "general", [PHOTO]);
    expect(server.messages("general")[0].attachments).toEqual([PHOTO]);
    expect(client.getState().rooms.general.messages[0].attachments).toEqual([PHOTO]);
  });

  it("asks for a download URL once and reuses it until shortly before it expires", async () => {
    const { server, client } = connected();
    client.send("look", "general", [PHOTO]);
    await expect(client.attachmentUrl("general", PHOTO.key)).resolves.toBe(
      `https://files.test/${PHOTO.key}?signature=1`,
    );
    await expect(client.attachmentUrl("general", PHOTO.key)).resolves.toContain("signature=1");
    expect(server.urlsGiven).toBe(1);
    vi.advanceTimersByTime(290_000);
    await expect(client.attachmentUrl("general", PHOTO.key)).resolves.toContain("signature=2");
  });

  it("rejects with the server's reason, and without a connection", async () => {
    const { server, client } = connected();
    await expect(client.attachmentUrl("general", PHOTO.key)).rejects.toThrow("no such attachment");
    server.last.drop();
    await expect(client.attachmentUrl("general", PHOTO.key)).rejects.toThrow(/Not connected/);
  });
});
