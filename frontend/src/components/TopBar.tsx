import type { CSSProperties, Ref } from "react";
import type { ChatState } from "../chat/state";
import type { User } from "../chat/types";
import { avatarHue, initials } from "../format";
import { ConnectionStatus } from "./ConnectionStatus";
import { Logo } from "./Logo";

interface Props {
  me: User;
  state: Pick<ChatState, "status" | "retryAt" | "connections">;
  /** Unread messages in rooms not on screen: a dot on the menu button, and in its name. */
  unreadElsewhere: number;
  menuOpen: boolean;
  menuButton: Ref<HTMLButtonElement>;
  onToggleMenu: () => void;
  onRetry: () => void;
  onLogout: () => void;
}

/** The page's banner: the rooms menu (phones), the brand, the connection, who is logged in. */
export function TopBar({ me, state, unreadElsewhere, menuOpen, menuButton, onToggleMenu, onRetry, onLogout }: Props) {
  return (
    <header className="topbar">
      <button
        ref={menuButton}
        type="button"
        className="icon-button menu"
        aria-expanded={menuOpen}
        aria-controls="rooms-panel"
        onClick={onToggleMenu}
      >
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
          <path d="M4 6h16M4 12h16M4 18h16" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
        <span className="sr-only">Rooms{unreadElsewhere > 0 ? `, ${unreadElsewhere} unread` : ""}</span>
        {unreadElsewhere > 0 && <span className="menu-dot" aria-hidden="true" />}
      </button>
      <div className="brand">
        <Logo size={28} />
        <span className="brand-name">chatstack</span>
      </div>
      <ConnectionStatus
        status={state.status}
        retryAt={state.retryAt}
        everConnected={state.connections > 0}
        onRetry={onRetry}
      />
      <div className="me">
        <span className="avatar small" style={{ "--hue": avatarHue(me.userId) } as CSSProperties} aria-hidden="true">
          {initials(me.username)}
        </span>
        <span className="me-name">
          <span className="sr-only">Logged in as </span>
          <bdi>{me.username}</bdi>
        </span>
        <button type="button" className="button ghost small" onClick={onLogout}>
          Log out
        </button>
      </div>
    </header>
  );
}
