import { describe, expect, it } from "vitest";
import { fileProblem, formatSize, isInlineImage, MAX_FILE_BYTES, pastedName } from "../media";

describe("fileProblem", () => {
  it("accepts an image, a PDF and a text file within the limit", () => {
    for (const type of ["image/png", "image/jpeg", "application/pdf", "text/plain"]) {
      expect(fileProblem({ name: "a", type, size: 10 })).toBeNull();
    }
  });

  it("refuses HTML and SVG, which could run as the app", () => {
    expect(fileProblem({ name: "x.html", type: "text/html", size: 10 })).toMatch(/can't be sent/);
    expect(fileProblem({ name: "x.svg", type: "image/svg+xml", size: 10 })).toMatch(/can't be sent/);
  });

  it("refuses a file over 10 MiB, naming both sizes", () => {
    const problem = fileProblem({ name: "big.png", type: "image/png", size: MAX_FILE_BYTES + 1 });
    expect(problem).toMatch(/too large \(10\.0 MB\): the limit is 10\.0 MB/);
    expect(fileProblem({ name: "ok.png", type: "image/png", size: MAX_FILE_BYTES })).toBeNull();
  });

  it("refuses an empty file", () => {
    expect(fileProblem({ name: "e.txt", type: "text/plain", size: 0 })).toMatch(/empty/);
  });
});

describe("formatting", () => {
  it("formats sizes", () => {
    expect(formatSize(1)).toBe("1 byte");
    expect(formatSize(2048)).toBe("2 KB");
    expect(formatSize(1572864)).toBe("1.5 MB");
  });

  it("shows raster images inline only", () => {
    expect(isInlineImage("image/png")).toBe(true);
    expect(isInlineImage("image/svg+xml")).toBe(false);
    expect(isInlineImage("application/pdf")).toBe(false);
  });

  it("names pasted files by type and time", () => {
    expect(pastedName("image/png", new Date("2026-12-01T02:03:04Z"))).toBe("pasted-20261201-020304.png");
    expect(pastedName("image/jpeg", new Date("2026-12-01T02:03:04Z"))).toMatch(/\.jpg$/);
  });
});
