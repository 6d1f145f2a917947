/** Display helpers: times, days, avatars, the tab's title. Pure, so the rendering stays simple. */

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const day = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayWithYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "long", day: "numeric" });

export function formatTime(timestamp: number): string {
  return time.format(timestamp);
}

export function formatFull(timestamp: number): string {
  return full.format(timestamp);
}

function startOfDay(timestamp: number): number {
  const d = new Date(timestamp);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function sameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b);
}

export function formatDay(timestamp: number, now: number = Date.now()): string {
  const days = Math.round((startOfDay(now) - startOfDay(timestamp)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return new Date(timestamp).getFullYear() === new Date(now).getFullYear()
    ? day.format(timestamp)
    : dayWithYear.format(timestamp);
}

/** A stable hue for a user, so each author keeps one colour. */
export function avatarHue(userId: string): number {
  let hash = 0;
  for (let i = 0; i < userId.length; i += 1) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0;
  return hash % 360;
}

export function initials(username: string): string {
  const letters = Array.from(username.trim());
  return (letters[0] ?? "?").toUpperCase();
}

/** The tab's title: the conversation on screen (``#room``, a chat's name), after the count of
 * unread messages if there are any. */
export function documentTitle(name: string, unread: number): string {
  const count = unread > 99 ? "(99+) " : unread > 0 ? `(${unread}) ` : "";
  return `${count}${name} · chatstack`;
}
