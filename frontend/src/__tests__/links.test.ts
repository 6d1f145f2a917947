import { describe, expect, it } from "vitest";
import { linkSegments } from "../links";

const links = (text: string) => linkSegments(text).filter((s) => s.href !== undefined);
const joined = (text: string) => linkSegments(text).map((s) => s.text).join("");

describe("linkSegments", () => {
  it("makes http and https URLs links, keeping the text around them", () => {
    expect(linkSegments("see https://example.com/a?b=1 and http://x.org")).toEqual([
      { text: "see " },
      { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
      { text: " and " },
      { text: "http://x.org", href: "http://x.org/" },
    ]);
  });

  it("leaves trailing punctuation and a closing bracket out of the link", () => {
    expect(links("Read https://example.com/docs.")).toEqual([
      { text: "https://example.com/docs", href: "https://example.com/docs" },
    ]);
    expect(links("(see https://example.com/x)")[0].text).toBe("https://example.com/x");
    expect(links("https://en.wikipedia.org/wiki/Foo_(bar), ok")[0].text).toBe(
      "https://en.wikipedia.org/wiki/Foo_(bar)",
    );
  });

  it("links www. names, but not bare file names or e-mail addresses", () => {
    expect(links("go to www.example.com now")).toEqual([
      { text: "www.example.com", href: "http://www.example.com/" },
    ]);
    expect(links("open notes.md or ada@example.com")).toEqual([]);
  });

  it("never links other schemes", () => {
    for (const text of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "ftp://example.com/file",
      "mailto:ada@example.com",
      "//example.com/protocol-relative",
      "vbscript:msgbox(1)",
    ]) {
      expect(links(text)).toEqual([]);
    }
  });

  it("gives back the whole text, including around several links and in right-to-left text", () => {
    for (const text of [
      "",
      "no links",
      "a https://a.example b https://b.example c",
      "שלום https://example.com/שלום?",
      "<b>https://example.com/<img></b>",
    ]) {
      expect(joined(text)).toBe(text);
    }
  });
});
