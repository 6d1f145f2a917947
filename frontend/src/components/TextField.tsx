import type { InputHTMLAttributes, ReactNode, Ref } from "react";

interface Props extends InputHTMLAttributes<HTMLInputElement> {
  id: string;
  label: string;
  inputRef?: Ref<HTMLInputElement>;
  /** Help shown under the field while it has no error. */
  hint?: string;
  /** The field's problem: shown instead of the hint, announced, and tied to the field. */
  error?: ReactNode;
  /** Beside the input, inside its frame (a show-password button). */
  trailing?: ReactNode;
  /** Under the field at the end of the line (a character count). */
  aside?: ReactNode;
}

/** A labelled input with its hint or error tied to it by ``aria-describedby``. */
export function TextField({ id, label, inputRef, hint, error, trailing, aside, ...input }: Props) {
  const note = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div className={`field${error ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      <div className={trailing ? "input-frame with-trailing" : "input-frame"}>
        <input
          id={id}
          ref={inputRef}
          aria-invalid={error ? true : undefined}
          aria-describedby={note}
          {...input}
        />
        {trailing}
      </div>
      <div className="field-notes">
        {error ? (
          <p className="field-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        ) : (
          hint && (
            <p className="hint" id={`${id}-hint`}>
              {hint}
            </p>
          )
        )}
        {aside}
      </div>
    </div>
  );
}
