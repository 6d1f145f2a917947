import { describe, expect, it } from "vitest";
import { codePoints, parseFrame, roomNameError } from "../types";
import { msg } from "./fakeServer";

describe("parseFrame", () => {
  it("reads every frame of the contract", () => {
    const m = msg(1);
    expect(parseFrame(JSON.stringify({ type: "message", ...m }))).toEqual({ type: "message", ...m });
    expect(parseFrame(JSON.stringify({ type: "messages", roomId: "general", messages: [m], nextBefore: null }))).toEqual({
      type: "messages",
      roomId: "general",
      messages: [m],
      nextBefore: null,
    });
    expect(parseFrame('{"type":"ack","action":"joinRoom","roomId":"dev"}')).toEqual({
      type: "ack",
      action: "joinRoom",
      roomId: "dev",
    });
    expect(
      parseFrame(
        '{"type":"ack","action":"sendMessage","roomId":"general","clientMessageId":"c1","messageId":"m","timestamp":5,"duplicate":true}',
      ),
    ).toMatchObject({ action: "sendMessage", clientMessageId: "c1", duplicate: true });
    expect(parseFrame('{"type":"error","code":"NOT_IN_ROOM","message":"no","action":"sendMessage"}')).toEqual({
      type: "error",
      code: "NOT_IN_ROOM",
      message: "no",
      action: "sendMessage",
    });
  });

  it("keeps message text as the server sent it, HTML included", () => {
    const frame = parseFrame(JSON.stringify({ type: "message", ...msg(1), message: "<img src=x onerror=alert(1)>  " }));
    expect(frame?.type === "message" && frame.message).toBe("<img src=x onerror=alert(1)>  ");
  });

  it("refuses what it does not understand", () => {
    for (const data of ["nope", "[]", "null", '{"type":"message"}', '{"type":"ack","action":"x","roomId":"r"}', 42]) {
      expect(parseFrame(data)).toBeNull();
    }
    const page = parseFrame(JSON.stringify({ type: "messages", roomId: "r", messages: [msg(1), { bad: 1 }], nextBefore: 3 }));
    expect(page).toEqual({ type: "messages", roomId: "r", messages: [msg(1, "general")], nextBefore: null });
  });
});

describe("room names and lengths", () => {
  it("accepts what the server accepts", () => {
    expect(roomNameError("dev_ops-2")).toBeNull();
    expect(roomNameError("x".repeat(64))).toBeNull();
    expect(roomNameError("")).not.toBeNull();
    expect(roomNameError("x".repeat(65))).not.toBeNull();
    expect(roomNameError("no spaces")).not.toBeNull();
  });

  it("counts code points, as the server does", () => {
    expect(codePoints("héllo")).toBe(5);
    expect(codePoints("👋🏽")).toBe(2);
  });
});
