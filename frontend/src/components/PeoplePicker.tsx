import { useEffect, useId, useState } from "react";
import { ApiError, type Api } from "../api";
import type { Person } from "../chat/types";

/** Wait this long after the last key before asking the server. */
const SEARCH_DELAY_MS = 200;

interface Props {
  api: Api;
  /** The field's label ("Find people", "Add people"). */
  label: string;
  /** People not to offer (oneself, those already in the group). */
  exclude: ReadonlySet<string>;
  /** The buttons beside each person found. */
  actions: (person: Person) => React.ReactNode;
}

/**
 * A username search: people whose name starts with what was typed (``GET /users?prefix=``; ids
 * and names only, never an e-mail), each with the caller's buttons.
 */
export function PeoplePicker({ api, label, exclude, actions }: Props) {
  const id = useId();
  const [prefix, setPrefix] = useState("");
  const [found, setFound] = useState<Person[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const wanted = prefix.trim();
    if (wanted.length === 0) {
      setFound(null);
      setError(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      api.searchUsers(wanted).then(
        (people) => {
          if (!current) return;
          setFound(people);
          setError(null);
        },
        (e: unknown) => {
          if (!current) return;
          setFound(null);
          setError(e instanceof ApiError ? e.message : "The search failed. Try again.");
        },
      );
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, prefix]);

  const shown = (found ?? []).filter((p) => !exclude.has(p.userId));
  return (
    <div className="people-picker">
      <label htmlFor={`${id}-search`}>{label}</label>
      <input
        id={`${id}-search`}
        type="search"
        value={prefix}
        onChange={(e) => setPrefix(e.target.value)}
        placeholder="username"
        autoComplete="off"
        autoCapitalize="off"
        spellCheck={false}
        maxLength={64}
        aria-describedby={`${id}-status`}
      />
      <p className="hint" id={`${id}-status`} role="status">
        {error ?? (found === null ? "Type the start of a username." : shown.length === 0 ? "Nobody found." : "")}
      </p>
      {shown.length > 0 && (
        <ul className="people" aria-label={`${label}: results`}>
          {shown.map((person) => (
            <li key={person.userId}>
              <span className="person-name">{person.username}</span>
              <span className="person-actions">{actions(person)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
