import { useEffect, useRef, useState } from "react";
import { ChatClient } from "../chat/client";
import { chatFromSearch, roomFromSearch } from "../roomUrl";
import { isExpired, type Session } from "../session";

/**
 * The chat client of a session, started while the view is shown, told when the browser goes
 * offline or online and when the page goes to the background or comes back.
 */
export function useChatClient(session: Session, wsUrl: string, onSessionExpired: () => void): ChatClient {
  const expired = useRef(onSessionExpired);
  expired.current = onSessionExpired;
  const [client] = useState(
    () =>
      new ChatClient({
        wsUrl,
        token: session.token,
        me: session.user,
        storage: localStorage,
        tokenExpired: () => isExpired(session),
        onSessionExpired: () => expired.current(),
        openRoom: roomFromSearch(location.search),
        openChat: chatFromSearch(location.search),
      }),
  );
  useEffect(() => {
    client.start();
    const online = () => client.setOnline(true);
    const offline = () => client.setOnline(false);
    const visibility = () => client.setVisible(document.visibilityState === "visible");
    visibility();
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    document.addEventListener("visibilitychange", visibility);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      document.removeEventListener("visibilitychange", visibility);
      client.stop();
    };
  }, [client]);
  return client;
}
