/**
 * Web links in a message's text, found by linkify-it: only http(s) URLs and "www." names become
 * links; everything else (javascript:, data:, mailto:, bare file names like "notes.md") stays text.
 */

import { LinkifyIt } from "linkify-it";

export interface TextSegment {
  text: string;
  /** Set when the segment is a link: its absolute http(s) URL. */
  href?: string;
}

const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: false })
  .add("ftp:", null)
  .add("mailto:", null)
  .add("//", null);

const SAFE_PROTOCOLS = new Set(["http:", "https:"]);

/** An absolute http(s) URL for a match, or null if it is not one. */
function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The message split into plain text and links, in order; joined, the texts give it back. */
export function linkSegments(text: string): TextSegment[] {
  const matches = linkify.test(text) ? (linkify.match(text) ?? []) : [];
  const segments: TextSegment[] = [];
  let at = 0;
  for (const match of matches) {
    // A schemaless match is only a link when it starts with "www." ("notes.md" is a file name).
    const href = match.schema === "" && !/^www\./i.test(match.raw) ? null : safeHref(match.url);
    if (href === null) continue;
    if (match.index > at) segments.push({ text: text.slice(at, match.index) });
    segments.push({ text: text.slice(match.index, match.lastIndex), href });
    at = match.lastIndex;
  }
  if (at < text.length || segments.length === 0) segments.push({ text: text.slice(at) });
  return segments;
}
