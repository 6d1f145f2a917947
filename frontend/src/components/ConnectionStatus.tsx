import { useEffect, useState } from "react";
import type { ConnectionStatus as Status } from "../chat/state";

interface Props {
  status: Status;
  retryAt: number | null;
  everConnected: boolean;
  onRetry: () => void;
}

const LABEL: Record<Status, string> = {
  connected: "Connected",
  connecting: "Connecting…",
  disconnected: "Disconnected",
  offline: "Offline",
};

function useSecondsUntil(at: number | null): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (at === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [at]);
  return at === null ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The connection indicator: a live status (announced when it changes) and a retry button. */
export function ConnectionStatus({ status, retryAt, everConnected, onRetry }: Props) {
  const seconds = useSecondsUntil(status === "disconnected" ? retryAt : null);
  const label = status === "connecting" && everConnected ? "Reconnecting…" : LABEL[status];
  return (
    <div className={`connection ${status}`}>
      <span className="dot" aria-hidden="true" />
      <span role="status" className="connection-label">
        {label}
      </span>
      {(status === "disconnected" || status === "offline") && (
        <>
          {seconds !== null && seconds > 0 && (
            <span className="connection-retry" aria-hidden="true">
              · retry in {seconds}s
            </span>
          )}
          <button type="button" className="link small" onClick={onRetry}>
            Retry now
          </button>
        </>
      )}
    </div>
  );
}
