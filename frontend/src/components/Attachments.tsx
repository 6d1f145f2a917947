import { createContext, useContext, useEffect, useRef, useState } from "react";
import type { Attachment } from "../chat/types";
import { formatSize, isInlineImage } from "../media";

/** Where a shown attachment gets its short-lived URL (the chat client's getAttachmentUrl). */
export type UrlSource = (roomId: string, key: string) => Promise<string>;
export const AttachmentUrls = createContext<UrlSource>(() => Promise.reject(new Error("no chat connection")));

/** The files of a message: images as thumbnails (a click shows them full size), others as chips. */
export function AttachmentList({ roomId, attachments }: { roomId: string; attachments: Attachment[] }) {
  return (
    <ul className="attachments" aria-label="Attachments">
      {attachments.map((a) => (
        <li key={a.key}>
          {isInlineImage(a.contentType) ? (
            <ImageAttachment roomId={roomId} attachment={a} />
          ) : (
            <FileChip roomId={roomId} attachment={a} />
          )}
        </li>
      ))}
    </ul>
  );
}

function ImageAttachment({ roomId, attachment }: { roomId: string; attachment: Attachment }) {
  const urls = useContext(AttachmentUrls);
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    let live = true;
    urls(roomId, attachment.key).then(
      (found) => live && setUrl(found),
      (error: Error) => live && setFailed(error.message),
    );
    return () => {
      live = false;
    };
  }, [urls, roomId, attachment.key]);
  if (failed !== null) {
    return (
      <span className="attachment-error" title={failed}>
        {attachment.name}: can't be shown
      </span>
    );
  }
  return (
    <>
      <button
        type="button"
        className="attachment-thumb"
        aria-label={`Open image ${attachment.name} (${formatSize(attachment.size)})`}
        onClick={() => setOpen(true)}
        disabled={url === null}
      >
        {url === null ? (
          <span className="thumb-placeholder" aria-hidden="true" />
        ) : (
          <img src={url} alt={attachment.name} loading="lazy" />
        )}
      </button>
      {open && url !== null && <ImageViewer url={url} name={attachment.name} onClose={() => setOpen(false)} />}
    </>
  );
}

/** The full-size image over the page; Escape, the close button or a click outside closes it. */
function ImageViewer({ url, name, onClose }: { url: string; name: string; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    close.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
      before?.focus();
    };
  }, [onClose]);
  return (
    <div className="image-viewer" role="dialog" aria-modal="true" aria-label={name} onClick={onClose}>
      <img src={url} alt={name} onClick={(e) => e.stopPropagation()} />
      <button ref={close} type="button" className="button ghost viewer-close" onClick={onClose}>
        Close
      </button>
    </div>
  );
}

function FileChip({ roomId, attachment }: { roomId: string; attachment: Attachment }) {
  const urls = useContext(AttachmentUrls);
  const [error, setError] = useState<string | null>(null);
  async function download() {
    setError(null);
    try {
      const url = await urls(roomId, attachment.key);
      const link = document.createElement("a");
      link.href = url;
      link.rel = "noopener";
      link.download = attachment.name;
      document.body.appendChild(link);
      link.click();
      link.remove();
    } catch (problem) {
      setError((problem as Error).message);
    }
  }
  return (
    <>
      <button type="button" className="file-chip" onClick={download} title={`Download ${attachment.name}`}>
        <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
          <path d="M6 2h8l6 6v14H6zM13 3.5V9h5.5" fill="none" stroke="currentColor" strokeWidth="1.6" />
        </svg>
        <bdi className="file-name">{attachment.name}</bdi>
        <span className="file-size">{formatSize(attachment.size)}</span>
      </button>
      {error && (
        <span className="attachment-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
