import { useEffect, useState } from "react";
import type { Api } from "../api";
import type { ConversationEntry } from "../chat/conversations";

const SEARCH_DELAY_MS = 200;

interface Props {
  api: Api;
  /** What the user typed in the room field (may be empty: the first rooms by name). */
  prefix: string;
  joined: readonly ConversationEntry[];
  onJoin: (roomId: string) => void;
}

/** The directory of rooms (``GET /rooms?prefix=``): rooms with members, by name, with their counts. */
export function RoomDirectory({ api, prefix, joined, onJoin }: Props) {
  const [rooms, setRooms] = useState<{ roomId: string; members: number }[]>([]);

  useEffect(() => {
    if (prefix.length > 64 || !/^[A-Za-z0-9_-]*$/.test(prefix)) {
      setRooms([]);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api.rooms(prefix).then(
        (found) => current && setRooms(found),
        () => current && setRooms([]),
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, prefix]);

  const mine = new Set(joined.filter((e) => e.kind === "room").map((e) => e.key));
  const shown = rooms.filter((r) => !mine.has(r.roomId));
  if (shown.length === 0) return null;
  return (
    <section className="directory" aria-label="Room directory">
      <h2 className="sidebar-title">Rooms to join</h2>
      <ul className="people">
        {shown.map((room) => (
          <li key={room.roomId}>
            <span className="person-name">#{room.roomId}</span>
            <span className="person-actions">
              <span className="hint">
                {room.members} {room.members === 1 ? "member" : "members"}
              </span>
              <button
                type="button"
                className="button ghost small"
                aria-label={`Join ${room.roomId}`}
                onClick={() => onJoin(room.roomId)}
              >
                Join
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
