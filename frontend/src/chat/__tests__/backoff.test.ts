import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF, reconnectDelay } from "../backoff";

describe("reconnectDelay", () => {
  const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };

  it("doubles from the base delay with each failed attempt", () => {
    expect([0, 1, 2, 3, 4].map((a) => reconnectDelay(a, noJitter))).toEqual([500, 1000, 2000, 4000, 8000]);
  });

  it("never waits longer than the cap, however many attempts failed", () => {
    expect(reconnectDelay(5, noJitter)).toBe(15_000);
    expect(reconnectDelay(1000, noJitter)).toBe(15_000);
  });

  it("takes up to the jitter fraction off at random, never more", () => {
    expect(reconnectDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(4000);
    expect(reconnectDelay(3, DEFAULT_BACKOFF, () => 1)).toBe(2000);
    expect(reconnectDelay(3, DEFAULT_BACKOFF, () => 0.5)).toBe(3000);
  });

  it("treats a negative attempt as the first and clamps a bad random source", () => {
    expect(reconnectDelay(-3, noJitter)).toBe(500);
    expect(reconnectDelay(0, DEFAULT_BACKOFF, () => 7)).toBe(250);
  });
});
