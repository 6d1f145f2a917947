import { linkSegments } from "../links";

/**
 * A message's text as typed: laid out in its own direction (right-to-left for Hebrew or Arabic),
 * with web links that open in a new tab. Text only, never HTML.
 */
export function MessageText({ text }: { text: string }) {
  return (
    <p className="text" dir="auto">
      {linkSegments(text).map((segment, index) =>
        segment.href === undefined ? (
          segment.text
        ) : (
          <a key={index} href={segment.href} target="_blank" rel="noopener noreferrer">
            {segment.text}
          </a>
        ),
      )}
    </p>
  );
}
