/** Files in messages (conformance/MEDIA.md): what the stage accepts, sizes, how a file shows. */

/** The stage's default allow-list (lambdas/contract/media.py): common images, PDF, plain text. */
export const ACCEPTED_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "text/plain",
] as const;
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_ATTACHMENTS = 10;
/** Raster images are shown in the page; anything else downloads as a file. */
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function isInlineImage(contentType: string): boolean {
  return INLINE_TYPES.has(contentType);
}

/** "1.2 MB", "340 KB", "12 bytes". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why ``file`` cannot be sent, in words for its sender; null when it can. */
export function fileProblem(file: { name: string; type: string; size: number }): string | null {
  const type = file.type.toLowerCase();
  if (!(ACCEPTED_TYPES as readonly string[]).includes(type)) {
    return `${file.name || "This file"} can't be sent: only images (PNG, JPEG, GIF, WebP), PDF and plain text files are accepted.`;
  }
  if (file.size === 0) return `${file.name || "This file"} is empty.`;
  if (file.size > MAX_FILE_BYTES) {
    return `${file.name || "This file"} is too large (${formatSize(file.size)}): the limit is ${formatSize(MAX_FILE_BYTES)}.`;
  }
  return null;
}

/** A name for a pasted file, which has none of its own ("image.png" from the clipboard). */
export function pastedName(type: string, now: Date = new Date()): string {
  const extension = type.split("/")[1]?.replace("jpeg", "jpg").replace("plain", "txt") ?? "bin";
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return `pasted-${stamp}.${extension}`;
}
