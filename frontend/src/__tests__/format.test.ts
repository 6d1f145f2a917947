import { describe, expect, it } from "vitest";
import { documentTitle, formatFull } from "../format";

describe("documentTitle", () => {
  it("names the room, with the unread count first when there is one", () => {
    expect(documentTitle("#general", 0)).toBe("#general · chatstack");
    expect(documentTitle("#team", 3)).toBe("(3) #team · chatstack");
    expect(documentTitle("#team", 250)).toBe("(99+) #team · chatstack");
    expect(documentTitle("ada", 1)).toBe("(1) ada · chatstack");
  });
});

describe("formatFull", () => {
  it("gives the weekday, the date with its year and the time to the second", () => {
    const at = new Date(2026, 10, 30, 14, 5, 9).getTime();
    const text = formatFull(at);
    expect(text).toContain("2026");
    expect(text).toMatch(/Monday/);
    expect(text).toMatch(/\b0?2:05:09\b|\b14:05:09\b/);
  });
});
