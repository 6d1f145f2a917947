import { useCallback, useState } from "react";
import { savedChatKey } from "./chat/client";
import type { AppConfig } from "./config";
import { AuthView } from "./components/AuthView";
import { ChatView } from "./components/ChatView";
import { searchWithoutConversation } from "./roomUrl";
import { clearSession, loadSession, saveSession, type Session } from "./session";

export function App({ config }: { config: AppConfig }) {
  const [session, setSession] = useState<Session | null>(() => loadSession(localStorage));
  const [notice, setNotice] = useState<string | null>(null);

  const onLoggedIn = useCallback((next: Session) => {
    saveSession(localStorage, next);
    setNotice(null);
    setSession(next);
  }, []);

  function logout(reason: string | null) {
    // Forget everything this browser kept for the user: token, rooms, unsent messages — and,
    // unless the session merely expired (logging in again should lead back), the room or chat shown.
    if (session !== null) localStorage.removeItem(savedChatKey(session.user.userId));
    if (reason === null) {
      history.replaceState(null, "", `${location.pathname}${searchWithoutConversation(location.search)}`);
    }
    clearSession(localStorage);
    setSession(null);
    setNotice(reason);
  }

  if (session === null) {
    return <AuthView restUrl={config.restUrl} notice={notice} onLoggedIn={onLoggedIn} />;
  }
  return (
    <ChatView
      key={session.user.userId}
      session={session}
      restUrl={config.restUrl}
      wsUrl={config.wsUrl}
      onLogout={() => logout(null)}
      onSessionExpired={() => logout("Your session has expired. Please log in again.")}
    />
  );
}
