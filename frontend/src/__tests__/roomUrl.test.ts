import { describe, expect, it } from "vitest";
import { addressChange, roomFromSearch, searchForRoom, searchWithoutRoom } from "../roomUrl";

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
    expect(searchForRoom("", "team")).toBe("?room=team");
    expect(searchForRoom("?lang=he&room=old", "team")).toBe("?lang=he&room=team");
    expect(searchWithoutRoom("?lang=he&room=team")).toBe("?lang=he");
    expect(searchWithoutRoom("?room=team")).toBe("");
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
});
