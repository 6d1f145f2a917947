import { describe, expect, it } from "vitest";
import {
  addressChange,
  chatFromSearch,
  conversationFromSearch,
  roomFromSearch,
  searchFor,
  searchWithoutConversation,
} from "../roomUrl";

describe("room in the address", () => {
  it("reads a valid room name and ignores invalid ones", () => {
    expect(roomFromSearch("?room=team-1")).toBe("team-1");
    expect(roomFromSearch("?x=1&room=a_b")).toBe("a_b");
    expect(roomFromSearch("")).toBeNull();
    expect(roomFromSearch("?room=")).toBeNull();
    expect(roomFromSearch("?room=has%20space")).toBeNull();
    expect(roomFromSearch(`?room=${"a".repeat(65)}`)).toBeNull();
  });

  it("writes the room, keeping other parameters, and removes it", () => {
    expect(searchFor("", "team")).toBe("?room=team");
    expect(searchFor("?lang=he&room=old", "team")).toBe("?lang=he&room=team");
    expect(searchWithoutConversation("?lang=he&room=team")).toBe("?lang=he");
    expect(searchWithoutConversation("?room=team")).toBe("");
  });

  it("pushes an entry when moving between open rooms, so Back returns", () => {
    expect(addressChange("?room=general", "team", ["general", "team"], false)).toEqual({
      kind: "push",
      search: "?room=team",
    });
    expect(addressChange("?room=team", "team", ["general", "team"], false)).toBeNull();
  });

  it("replaces the entry on first load and after leaving or failing to open the room it named", () => {
    expect(addressChange("", "general", ["general"], true)).toEqual({ kind: "replace", search: "?room=general" });
    expect(addressChange("?room=general", "team", ["general", "team"], true)?.kind).toBe("replace");
    expect(addressChange("?room=left", "general", ["general"], false)).toEqual({
      kind: "replace",
      search: "?room=general",
    });
    expect(addressChange("?room=bad%20name", "general", ["general"], false)?.kind).toBe("replace");
  });

  it("reads a chat id of the contract's shape and ignores invalid ones", () => {
    expect(chatFromSearch("?chat=c_1-AB")).toBe("c_1-AB");
    expect(conversationFromSearch("?chat=c1")).toBe("chat:c1");
    expect(chatFromSearch("?chat=")).toBeNull();
    expect(chatFromSearch("?chat=a%3Ab")).toBeNull(); // "a:b"
    expect(chatFromSearch("?chat=has%20space")).toBeNull();
    expect(chatFromSearch(`?chat=${"c".repeat(65)}`)).toBeNull();
    expect(chatFromSearch(`?chat=${"c".repeat(64)}`)).toBe("c".repeat(64));
    // An invalid chat id is ignored: the room (if any) is what the address names.
    expect(conversationFromSearch("?chat=bad%2Fid&room=team")).toBe("team");
    expect(conversationFromSearch("?chat=bad%2Fid")).toBeNull();
    // Not a room name either: "chat:c1" in ?room= names nothing.
    expect(conversationFromSearch("?room=chat%3Ac1")).toBeNull();
  });

  it("names a chat or a room, never both", () => {
    expect(searchFor("", "chat:c1")).toBe("?chat=c1");
    expect(searchFor("?lang=he&room=team", "chat:c1")).toBe("?lang=he&chat=c1");
    expect(searchFor("?chat=c1&lang=he", "team")).toBe("?lang=he&room=team");
    expect(searchFor("?room=team&chat=c1", "chat:c2")).toBe("?chat=c2");
    expect(searchWithoutConversation("?lang=he&chat=c1&room=team")).toBe("?lang=he");
    expect(searchWithoutConversation("?chat=c1")).toBe("");
  });

  it("reads an address naming both as the chat, and rewrites it in place", () => {
    expect(conversationFromSearch("?room=team&chat=c1")).toBe("chat:c1");
    expect(addressChange("?room=team&chat=c1", "chat:c1", ["general", "team", "chat:c1"], false)).toEqual({
      kind: "replace",
      search: "?chat=c1",
    });
    expect(addressChange("?room=team&chat=c1", "team", ["general", "team"], false)).toEqual({
      kind: "replace",
      search: "?room=team",
    });
  });

  it("pushes between a room and a chat, and replaces a chat that is gone", () => {
    const open = ["general", "chat:c1"];
    expect(addressChange("?room=general", "chat:c1", open, false)).toEqual({ kind: "push", search: "?chat=c1" });
    expect(addressChange("?chat=c1", "general", open, false)).toEqual({ kind: "push", search: "?room=general" });
    expect(addressChange("?chat=c1", "chat:c1", open, false)).toBeNull();
    expect(addressChange("?chat=gone", "general", open, false)).toEqual({ kind: "replace", search: "?room=general" });
    expect(addressChange("?chat=c1", "chat:c1", open, true)).toBeNull();
    expect(addressChange("?room=general", "chat:c1", open, true)?.kind).toBe("replace");
  });
});
