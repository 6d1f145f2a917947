import { useId, useRef, useState, type FormEvent } from "react";
import type { RoomState } from "../chat/state";
import { DEFAULT_ROOM, roomNameError } from "../chat/types";

interface Props {
  rooms: RoomState[];
  activeRoom: string;
  onSelect: (roomId: string) => void;
  onJoin: (roomId: string) => void;
  onLeave: (roomId: string) => void;
}

export function Sidebar({ rooms, activeRoom, onSelect, onJoin, onLeave }: Props) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  function join(event: FormEvent) {
    event.preventDefault();
    const room = name.trim().replace(/^#/, "");
    const problem = roomNameError(room);
    if (problem !== null) {
      setError(problem);
      input.current?.focus();
      return;
    }
    setError(null);
    setName("");
    onJoin(room);
  }

  return (
    <>
      <nav className="rooms-nav" aria-labelledby={`${id}-rooms`}>
        <h2 id={`${id}-rooms`} className="sidebar-title">
          Rooms
        </h2>
        <ul className="room-list">
          {rooms.map((room) => {
            const active = room.id === activeRoom;
            return (
              <li key={room.id} className={active ? "active" : undefined}>
                <button
                  type="button"
                  className="room-button"
                  aria-current={active ? "page" : undefined}
                  aria-label={room.unread > 0 && !active ? `${room.id}, ${room.unread} unread` : room.id}
                  onClick={() => onSelect(room.id)}
                >
                  <span className="hash" aria-hidden="true">
                    #
                  </span>
                  <span className="room-name">{room.id}</span>
                  {room.unread > 0 && !active && (
                    <span className="badge" aria-hidden="true">
                      {room.unread > 99 ? "99+" : room.unread}
                    </span>
                  )}
                </button>
                {room.id !== DEFAULT_ROOM && (
                  <button
                    type="button"
                    className="leave"
                    aria-label={`Leave ${room.id}`}
                    title={`Leave #${room.id}`}
                    onClick={() => onLeave(room.id)}
                  >
                    <span aria-hidden="true">×</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      </nav>
      <form className="join-form" onSubmit={join} noValidate>
        <label htmlFor={`${id}-join`}>Join a room</label>
        <div className="join-row">
          <input
            id={`${id}-join`}
            ref={input}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              if (error) setError(null);
            }}
            placeholder="room-name"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            maxLength={65}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-join-error` : `${id}-join-hint`}
          />
          <button type="submit" className="button primary small">
            Join
          </button>
        </div>
        {error ? (
          <p className="field-error" id={`${id}-join-error`} role="alert">
            {error}
          </p>
        ) : (
          <p className="hint" id={`${id}-join-hint`}>
            Letters, digits, “_” and “-”. A new name creates the room.
          </p>
        )}
      </form>
    </>
  );
}
